"""`flask post ...`: announcements on the Facebook Page and as Zalo OA articles."""

from __future__ import annotations

import json

import click
from flask import current_app
from flask.cli import AppGroup

from bot.posts.publish import (
    PostInputError,
    build_clients,
    create_post,
    describe,
    parse_targets,
    publish_due,
)
from bot.web.context import clock_now, get_services, get_store
from scheduler.schedule import ScheduleError, parse_local_datetime

post_cli = AppGroup("post", help="Bài đăng trên Trang Facebook và bài viết Zalo OA / page posts and OA articles.")


def _clients():
    services = get_services()
    return build_clients(current_app.config, services.channels)


@post_cli.command("create")
@click.option("--text", required=True, help="Nội dung bài đăng.")
@click.option("--title", help="Tiêu đề (bài viết Zalo cần tiêu đề; mặc định là dòng đầu của nội dung).")
@click.option("--link", help="Liên kết kèm theo (https://...).")
@click.option("--image", help="Ảnh (https://...): bài đăng ảnh trên Trang Facebook, ảnh bìa của bài viết Zalo OA.")
@click.option("--now", "post_now", is_flag=True, help="Đăng ngay (trong giờ yên lặng: đăng khi hết giờ yên lặng).")
@click.option("--at", "at", help='Đăng lúc: "ngày mai 08:00", "hôm nay 20:30" hoặc ISO 8601 (giờ địa phương nếu không ghi múi giờ).')
@click.option("--to", "to", required=True, help="Nơi đăng, cách nhau bởi dấu phẩy: facebook-page,zalo-article.")
@click.option("--override-quiet-hours", is_flag=True, help="Đăng cả trong giờ yên lặng.")
def create(text, title, link, image, post_now, at, to, override_quiet_hours):
    """Create a post, publish what is due now, and print its id."""
    config = current_app.config
    store = get_store()
    now = clock_now()
    if post_now == bool(at):
        raise click.ClickException("Chọn đúng một trong --now, --at.")
    clients = _clients()
    try:
        publish_at = parse_local_datetime(at, config["TIMEZONE"], now=now) if at else None
        post_id = create_post(
            store, config, clients, text=text, title=title, link=link, image=image, targets=parse_targets(to),
            now=now, publish_at=publish_at, override_quiet=override_quiet_hours, created_by="cli",
            allowed=get_services().broadcasts_allowed,
        )
    except (PostInputError, ScheduleError) as exc:
        raise click.ClickException(f"Không tạo được bài đăng: {exc}") from None
    publish_due(store, config, clients, now, allowed=get_services().broadcasts_allowed, post_id=post_id)
    click.echo(post_id)
    for target in describe(store.get_post(post_id), config["TIMEZONE"])["targets"]:
        line = f"{target['label']}: {target['state_label']}"
        if target["platform_id"]:
            line += f" (mã {target['platform_id']})"
        if target["error"]:
            line += f" – {target['error']}"
        click.echo(line, err=True)


@post_cli.command("list")
@click.option("--json", "as_json", is_flag=True, help="In JSON (mỗi bài một đối tượng, kèm trạng thái từng nơi đăng).")
@click.option("--limit", default=50, show_default=True, help="Số bài mới nhất.")
def list_posts(as_json, limit):
    """Each post's state per place and the platform's post or article id."""
    timezone = current_app.config["TIMEZONE"]
    posts = [describe(p, timezone) for p in get_store().list_posts(limit=limit)]
    if as_json:
        click.echo(json.dumps(posts, ensure_ascii=False, indent=2))
        return
    if not posts:
        click.echo("Chưa có bài đăng nào.")
        return
    for post in posts:
        heading = post["title"] or post["text"].split("\n", 1)[0]
        click.echo(f"#{post['id']}  {post['publish_at']}  {heading[:60]}")
        for target in post["targets"]:
            line = f"    {target['label']}: {target['state_label']}"
            if target["platform_id"]:
                line += f"  mã {target['platform_id']}"
            if target["error"]:
                line += f"  – {target['error']}"
            click.echo(line)


@post_cli.command("publish-due")
def publish_due_command():
    """Publish the posts that are due (the scheduler does this every tick)."""
    allowed = get_services().broadcasts_allowed
    results = publish_due(get_store(), current_app.config, _clients(), clock_now(), allowed=allowed)
    click.echo(json.dumps(results, ensure_ascii=False))
