/*
 * Website chat of the union's assistant.
 *
 * On the union's website, one tag opens a chat button and panel:
 *   <script src="https://BOT-SERVER/chat/embed.js" defer></script>
 * (the website's origin must be listed in CHAT_ALLOWED_ORIGINS). The bot's own /chat page
 * uses the same script with data-mode="page". No inline code, no third-party host: the
 * script, its stylesheet and the API all come from the bot's server.
 */
(function () {
  "use strict";
  var script = document.currentScript;
  if (!script || window.__unionChatLoaded) { return; }
  window.__unionChatLoaded = true;

  var base = new URL(script.src, document.baseURI).origin;
  var api = base + "/chat/api";
  var pageMode = script.getAttribute("data-mode") === "page";
  var storageKey = "union-chat-visitor:" + base;
  var TEXT_CAP = 2000;
  var POLL_MS = 3000;          // right after a message: replies that come a little later
  var POLL_SLOW_MS = 15000;    // then slower, e.g. a staff member answering after GẶP CÁN BỘ
  var FAST_FOR_MS = 60000;
  var POLL_FOR_MS = 30 * 60000;
  var lastSent = 0;
  var lastId = 0;
  var pollUntil = 0;
  var pollTimer = null;
  var busy = false;

  function el(tag, attrs, text) {
    var node = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (k) { node.setAttribute(k, attrs[k]); });
    if (text) { node.textContent = text; }
    return node;
  }

  function readToken() {
    try { return window.localStorage.getItem(storageKey); } catch (e) { return null; }
  }
  function saveToken(token) {
    try { if (token) { window.localStorage.setItem(storageKey, token); } } catch (e) { /* private mode */ }
  }

  // --- the panel -------------------------------------------------------------
  var host, root;
  if (pageMode) {
    host = document.getElementById(script.getAttribute("data-target") || "chat-root") || document.body;
    root = host;
    host.classList.add("page");
  } else {
    host = el("div", { "data-union-chat": "" });
    document.body.appendChild(host);
    root = host.attachShadow ? host.attachShadow({ mode: "open" }) : host;
    var wrap = el("div", { "class": "floating" });
    root.appendChild(el("link", { rel: "stylesheet", href: base + "/static/chat.css" }));
    root.appendChild(wrap);
    root = wrap;
  }
  var title = (host.getAttribute && host.getAttribute("data-title")) || script.getAttribute("data-title") || "Hỏi đáp cùng Hội Phụ nữ";

  var panel = el("section", { "class": "panel", id: "union-chat-panel", role: pageMode ? "region" : "dialog", "aria-label": title });
  var head = el("div", { "class": "head" });
  head.appendChild(el("h2", {}, title));
  var closeBtn = null;
  if (!pageMode) {
    closeBtn = el("button", { type: "button", "class": "close", "aria-label": "Đóng khung trò chuyện" }, "×");
    head.appendChild(closeBtn);
  }
  var log = el("div", { "class": "log", role: "log", "aria-live": "polite", "aria-relevant": "additions", tabindex: "0", "aria-label": "Nội dung trò chuyện" });
  var form = el("form", { "class": "form" });
  var label = el("label", { "for": "chat-input" }, "Câu hỏi của bạn");
  var input = el("textarea", { id: "chat-input", rows: "1", maxlength: String(TEXT_CAP), placeholder: "Nhập câu hỏi…", autocomplete: "off", enterkeyhint: "send" });
  var sendBtn = el("button", { type: "submit", "class": "send" }, "Gửi");
  form.appendChild(label); form.appendChild(input); form.appendChild(sendBtn);
  var note = el("p", { "class": "note" }, "Trợ lý tự động. Không ghi thông tin cá nhân trừ khi bạn gõ ĐĂNG KÝ và đồng ý. Gõ MENU để xem các việc trợ lý làm được.");
  panel.appendChild(head); panel.appendChild(log); panel.appendChild(form); panel.appendChild(note);
  root.appendChild(panel);

  var launcher = null;
  if (!pageMode) {
    panel.hidden = true;
    launcher = el("button", { type: "button", "class": "launcher", "aria-expanded": "false", "aria-controls": "union-chat-panel" }, "💬 Hỏi đáp");
    root.appendChild(launcher);
    launcher.addEventListener("click", function () { setOpen(panel.hidden); });
    closeBtn.addEventListener("click", function () { setOpen(false); });
    panel.addEventListener("keydown", function (e) { if (e.key === "Escape") { setOpen(false); } });
  }

  function setOpen(open) {
    panel.hidden = !open;
    if (launcher) {
      launcher.setAttribute("aria-expanded", open ? "true" : "false");
      launcher.hidden = open && window.matchMedia && window.matchMedia("(max-width: 40rem)").matches;
    }
    if (open) { input.focus(); } else if (launcher) { launcher.hidden = false; launcher.focus(); }
  }

  // --- messages ---------------------------------------------------------------
  var URL_RE = /(https?:\/\/[^\s<>"]+[^\s<>".,;:!?)\]])/g;

  function appendText(node, text) {
    var last = 0;
    text.replace(URL_RE, function (url, _m, offset) {
      node.appendChild(document.createTextNode(text.slice(last, offset)));
      var a = el("a", { href: url, target: "_blank", rel: "noopener noreferrer" }, url);
      node.appendChild(a);
      last = offset + url.length;
      return url;
    });
    node.appendChild(document.createTextNode(text.slice(last)));
  }

  function scrollDown() { log.scrollTop = log.scrollHeight; }

  function addMine(text) {
    var node = el("div", { "class": "msg me" });
    node.textContent = text;
    log.appendChild(node);
    scrollDown();
  }

  function addError(text) {
    log.appendChild(el("div", { "class": "error", role: "alert" }, text));
    scrollDown();
  }

  function addBot(message) {
    if (message.id && message.id <= lastId) { return; }
    if (message.id) { lastId = message.id; }
    var node = el("div", { "class": "msg bot" });
    if (message.text) { appendText(node, message.text); }
    if (message.image_url && /^https?:\/\//.test(message.image_url)) {
      node.appendChild(el("img", { src: message.image_url, alt: "Hình ảnh kèm câu trả lời" }));
    }
    if (message.link && /^https?:\/\//.test(message.link.url)) {
      node.appendChild(document.createTextNode("\n"));
      node.appendChild(el("a", { href: message.link.url, target: "_blank", rel: "noopener noreferrer" }, message.link.title || message.link.url));
    }
    if (message.choices && message.choices.length) {
      var chips = el("div", { "class": "chips", role: "group", "aria-label": "Lựa chọn" });
      message.choices.forEach(function (choice) {
        var chip = el("button", { type: "button", "class": "chip" }, choice.title);
        chip.addEventListener("click", function () { send(choice.title, choice.payload); });
        chips.appendChild(chip);
      });
      node.appendChild(chips);
    }
    log.appendChild(node);
    scrollDown();
  }

  // --- the API ------------------------------------------------------------------
  function request(method, path, body) {
    var headers = { "Accept": "application/json" };
    var token = readToken();
    if (token) { headers["X-Chat-Visitor"] = token; }
    if (body) { headers["Content-Type"] = "application/json"; }
    return fetch(api + path, {
      method: method, headers: headers, body: body ? JSON.stringify(body) : undefined,
      credentials: pageMode ? "same-origin" : "omit", mode: "cors", cache: "no-store"
    }).then(function (response) {
      return response.json().catch(function () { return {}; }).then(function (data) {
        if (!response.ok) { throw new Error(data.error || "Có lỗi xảy ra, vui lòng thử lại."); }
        if (data.visitor) { saveToken(data.visitor); }
        return data;
      });
    });
  }

  function send(text, payload) {
    text = (text || "").trim();
    if (busy || (!text && !payload)) { return; }
    if (text.length > TEXT_CAP) { addError("Tin nhắn dài quá 2.000 ký tự, vui lòng rút gọn."); return; }
    busy = true; sendBtn.disabled = true;
    addMine(text || payload);
    var body = { text: text };
    if (payload) { body.payload = payload; }
    request("POST", "/send", body).then(function (data) {
      (data.messages || []).forEach(addBot);
      startPolling();
    }).catch(function (err) {
      addError(err && err.message && !/fetch|network/i.test(err.message) ? err.message : "Không kết nối được với trợ lý, vui lòng thử lại.");
    }).then(function () { busy = false; sendBtn.disabled = false; input.focus(); });
  }

  function poll() {
    pollTimer = null;
    if (Date.now() > pollUntil) { return; }
    if (!panel.hidden && !document.hidden) {
      request("GET", "/messages?after=" + lastId).then(function (data) {
        (data.messages || []).forEach(addBot);
      }).catch(function () { /* the next poll tries again */ });
    }
    pollTimer = window.setTimeout(poll, Date.now() - lastSent < FAST_FOR_MS ? POLL_MS : POLL_SLOW_MS);
  }

  function startPolling() {
    lastSent = Date.now();
    pollUntil = lastSent + POLL_FOR_MS;
    if (pollTimer) { window.clearTimeout(pollTimer); }
    pollTimer = window.setTimeout(poll, POLL_MS);
  }

  form.addEventListener("submit", function (e) {
    e.preventDefault();
    var text = input.value;
    input.value = "";
    send(text, null);
  });
  input.addEventListener("keydown", function (e) {
    if (e.key === "Enter" && !e.shiftKey && !e.isComposing) { e.preventDefault(); form.requestSubmit ? form.requestSubmit() : form.dispatchEvent(new Event("submit")); }
  });

  addBot({ text: "Bạn cứ gõ câu hỏi về biên giới, biển, đảo và các hoạt động của Hội, có dấu hay không dấu đều được.", choices: [{ title: "Menu", payload: "MENU" }] });
  if (pageMode) { input.focus(); }
}());
