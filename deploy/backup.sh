#!/bin/sh
# Back up the database (consistent while the bot runs) and the content bank, keep the newest
# BACKUP_KEEP of each. Usage: deploy/backup.sh   (BACKUP_DIR, BACKUP_KEEP, PROJECT_DIR optional)
# Restore: see README, "Production" -> "Backups and restore".
set -eu

PROJECT_DIR="${PROJECT_DIR:-$(cd "$(dirname "$0")/.." && pwd)}"
BACKUP_DIR="${BACKUP_DIR:-/var/backups/chatbot}"
BACKUP_KEEP="${BACKUP_KEEP:-14}"
FLASK="${FLASK:-$PROJECT_DIR/.venv/bin/flask}"
stamp="$(date +%Y%m%d-%H%M%S)"

umask 077
mkdir -p "$BACKUP_DIR"
"$FLASK" --app "$PROJECT_DIR/app.py" db backup --out "$BACKUP_DIR/bot-$stamp.db"
tar -czf "$BACKUP_DIR/content-$stamp.tar.gz" -C "$PROJECT_DIR" content

# rotation: keep the newest BACKUP_KEEP database copies and content archives
for pattern in 'bot-*.db' 'content-*.tar.gz'; do
    # names carry the time, so a reverse name sort is newest first
    find "$BACKUP_DIR" -maxdepth 1 -type f -name "$pattern" | sort -r | tail -n "+$((BACKUP_KEEP + 1))" |
        while IFS= read -r old; do rm -f -- "$old"; done
done
echo "backup: $BACKUP_DIR/bot-$stamp.db, content-$stamp.tar.gz (keeping $BACKUP_KEEP)"
