/* Staff console: the live parts of the pages (every page also works without this file).
   - forms with data-preview-url: preview refreshed while typing
   - [data-counter]: characters left
   - broadcast form: live audience count (dry run), schedule fields shown as chosen, the fields of the ticked places
   - #progress-card: progress polled while a broadcast is sending
   - [data-add-source]: one more source row; form[data-confirm]: ask first
   - .nav-toggle: the navigation folded behind one button on a phone */
(function () {
  "use strict";
  var token = (document.querySelector('meta[name="csrf-token"]') || {}).content || "";
  document.documentElement.classList.add("js");

  // -- the navigation on a phone: one button opens and closes it ---------------------------
  var navToggle = document.querySelector(".nav-toggle");
  var nav = document.getElementById("console-nav");
  if (navToggle && nav) {
    navToggle.addEventListener("click", function () {
      var open = !nav.classList.contains("open");
      nav.classList.toggle("open", open);
      navToggle.setAttribute("aria-expanded", open ? "true" : "false");
      if (open) { var first = nav.querySelector("a"); if (first) first.focus(); }
    });
    document.addEventListener("keydown", function (event) {
      if (event.key === "Escape" && nav.classList.contains("open")) {
        nav.classList.remove("open");
        navToggle.setAttribute("aria-expanded", "false");
        navToggle.focus();
      }
    });
  }

  function debounce(fn, ms) {
    var timer = null;
    return function () {
      clearTimeout(timer);
      timer = setTimeout(fn, ms);
    };
  }

  function post(url, body, json) {
    var headers = { "X-CSRF-Token": token };
    if (json) headers["Content-Type"] = "application/json";
    return fetch(url, { method: "POST", headers: headers, body: json ? JSON.stringify(body) : body, credentials: "same-origin" });
  }

  function fmt(n) {
    return String(n).replace(/\B(?=(\d{3})+(?!\d))/g, ".");
  }

  // -- live preview ----------------------------------------------------------------
  document.querySelectorAll("form[data-preview-url]").forEach(function (form) {
    var target = document.getElementById("preview");
    if (!target) return;
    var refresh = debounce(function () {
      post(form.dataset.previewUrl, new FormData(form)).then(function (r) {
        return r.ok ? r.text() : null;
      }).then(function (html) {
        if (html !== null) target.innerHTML = html; // server-rendered and escaped
      }).catch(function () {});
    }, 400);
    form.addEventListener("input", refresh);
    form.addEventListener("change", refresh);
  });

  // -- character counters ----------------------------------------------------------
  document.querySelectorAll("[data-counter]").forEach(function (field) {
    var out = document.getElementById(field.name + "-counter");
    if (!out) return;
    var limit = parseInt(field.dataset.counter, 10);
    function update() {
      var n = field.value.trim().length;
      out.textContent = fmt(n) + " / " + fmt(limit) + " ký tự" + (n > limit ? " – quá giới hạn" : "");
      out.classList.toggle("over", n > limit);
    }
    field.addEventListener("input", update);
    update();
  });

  // -- more source rows ------------------------------------------------------------
  document.querySelectorAll("[data-add-source]").forEach(function (button) {
    button.addEventListener("click", function () {
      var rows = document.querySelectorAll("[data-source-row]");
      var max = parseInt(button.dataset.max, 10);
      if (!rows.length || rows.length >= max) return;
      var last = rows[rows.length - 1];
      var copy = last.cloneNode(true);
      var index = rows.length;
      copy.querySelectorAll("input, label").forEach(function (el) {
        ["id", "name", "for"].forEach(function (attr) {
          var v = el.getAttribute(attr);
          if (v) el.setAttribute(attr, v.replace(/source-\d+-/, "source-" + index + "-"));
        });
        if (el.tagName === "INPUT") el.value = "";
      });
      last.parentNode.insertBefore(copy, button);
      copy.querySelector("input").focus();
      if (rows.length + 1 >= max) button.hidden = true;
    });
  });

  // -- ask before destructive actions ------------------------------------------------
  document.querySelectorAll("form[data-confirm]").forEach(function (form) {
    form.addEventListener("submit", function (event) {
      if (!window.confirm(form.dataset.confirm)) event.preventDefault();
    });
  });

  // -- broadcast form ----------------------------------------------------------------
  var bform = document.querySelector("form.broadcast-form");
  if (bform) {
    var showSchedule = function () {
      var chosen = (bform.querySelector('input[name="schedule"]:checked') || {}).value || "now";
      bform.querySelectorAll("[data-when]").forEach(function (el) { el.hidden = el.dataset.when !== chosen; });
      var preset = bform.querySelector('[name="preset"]').value;
      bform.querySelectorAll("[data-preset]").forEach(function (el) { el.hidden = el.dataset.preset !== preset; });
    };
    bform.addEventListener("change", showSchedule);
    showSchedule();

    // the audience only for messages, the post title and quiet-hours override only for posts
    var showPlaces = function () {
      var boxes = bform.querySelectorAll('input[name="places"]');
      if (!boxes.length) return;
      var ticked = {};
      boxes.forEach(function (b) { ticked[b.value] = b.checked; });
      var post = ticked.facebook_page || ticked.zalo_article;
      bform.querySelectorAll("[data-for-place]").forEach(function (el) {
        el.hidden = el.dataset.forPlace === "post" ? !post : !ticked[el.dataset.forPlace];
      });
    };
    bform.addEventListener("change", showPlaces);
    showPlaces();

    var box = document.getElementById("audience-count");
    var reasons = JSON.parse(box.dataset.reasons || "{}");
    var channels = JSON.parse(box.dataset.channels || "{}");
    var kind = bform.querySelector('[name="audience_kind"]');
    var value = bform.querySelector('[name="audience_value"]');
    var seq = 0;
    var valueField = value.closest(".field");
    var showValue = function () { valueField.hidden = kind.value === "all"; };
    kind.addEventListener("change", showValue);
    showValue();
    var count = debounce(function () {
      var audience = kind.value === "all" ? "all" : kind.value + ":" + value.value.trim();
      if (kind.value !== "all" && !value.value.trim()) {
        box.innerHTML = '<p class="muted small">Nhập giá trị để xem số người nhận.</p>';
        return;
      }
      var mine = ++seq;
      post(box.dataset.dryRunUrl, { audience: audience }, true).then(function (r) {
        return r.json().then(function (data) { return { ok: r.ok, data: data }; });
      }).then(function (res) {
        if (mine !== seq) return;
        box.textContent = "";
        var p = document.createElement("p");
        if (!res.ok) {
          p.className = "field-error";
          p.textContent = res.data.error || "Không tính được số người nhận.";
          box.appendChild(p);
          return;
        }
        var send = 0, skip = 0, why = {};
        Object.keys(res.data.by_channel || {}).forEach(function (ch) {
          var c = res.data.by_channel[ch];
          send += c.would_send;
          Object.keys(c.would_skip || {}).forEach(function (r) {
            skip += c.would_skip[r];
            why[r] = (why[r] || 0) + c.would_skip[r];
          });
        });
        p.innerHTML = "<strong></strong>";
        p.firstChild.textContent = fmt(res.data.total) + " người nhận";
        p.appendChild(document.createTextNode(": " + fmt(send) + " sẽ nhận được nếu gửi bây giờ, " + fmt(skip) + " sẽ bị bỏ qua theo quy định của nền tảng."));
        box.appendChild(p);
        var list = document.createElement("ul");
        Object.keys(res.data.by_channel || {}).forEach(function (ch) {
          var li = document.createElement("li");
          var c = res.data.by_channel[ch];
          li.textContent = (channels[ch] || ch) + ": " + fmt(c.targeted) + " người, gửi được " + fmt(c.would_send);
          list.appendChild(li);
        });
        Object.keys(why).forEach(function (r) {
          var li = document.createElement("li");
          li.textContent = "Bỏ qua – " + (reasons[r] || r) + ": " + fmt(why[r]);
          list.appendChild(li);
        });
        if (list.children.length) box.appendChild(list);
      }).catch(function () {});
    }, 300);
    kind.addEventListener("change", count);
    value.addEventListener("input", count);
    count();
  }

  // -- broadcast progress ------------------------------------------------------------
  var card = document.getElementById("progress-card");
  if (card) {
    var states = { draft: "Nháp", scheduled: "Đã lên lịch", sending: "Đang gửi", paused: "Tạm dừng", done: "Đã xong", cancelled: "Đã hủy" };
    var startedFinished = card.dataset.finished === "yes";
    var poll = function () {
      fetch(card.dataset.pollUrl, { headers: { Accept: "application/json" }, credentials: "same-origin" })
        .then(function (r) { return r.ok ? r.json() : null; })
        .then(function (data) {
          if (!data) return setTimeout(poll, 5000);
          var rep = data.report;
          var finished = rep.targeted - rep.pending;
          var done = data.state === "done" || data.state === "cancelled";
          var percent = rep.targeted ? Math.round(100 * finished / rep.targeted) : (done && rep.runs.length ? 100 : 0);
          var bar = document.getElementById("progress");
          bar.max = Math.max(rep.targeted, 1);
          bar.value = rep.targeted ? finished : (percent === 100 ? 1 : 0);
          bar.textContent = percent + "%";
          card.querySelector('[data-field="percent"]').textContent = percent + "%";
          card.querySelector('[data-field="finished"]').textContent = fmt(finished);
          card.querySelector('[data-field="targeted"]').textContent = fmt(rep.targeted);
          ["sent", "skipped", "failed", "uncertain", "cancelled", "pending"].forEach(function (k) {
            var cell = card.querySelector('[data-count="' + k + '"]');
            if (cell) cell.textContent = fmt(rep[k] || 0);
          });
          ["delivered", "read"].forEach(function (k) {  // null: no channel of this broadcast reports receipts
            var cell = card.querySelector('[data-count="' + k + '"]');
            if (cell) cell.textContent = rep[k] === null ? "không hỗ trợ" : fmt(rep[k] || 0);
          });
          var state = document.getElementById("state");
          state.textContent = states[data.state] || data.state;
          state.className = "badge state-" + data.state;
          state.dataset.state = data.state;
          if (done && rep.pending === 0) {
            if (!startedFinished) window.location.reload(); // show the full delivery report
            return;
          }
          setTimeout(poll, data.state === "sending" ? 1000 : 3000);
        })
        .catch(function () { setTimeout(poll, 5000); });
    };
    if (!startedFinished) setTimeout(poll, 1000);
  }
})();
