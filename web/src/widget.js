// The clinic's chat widget: one <script> tag on any page. It talks to the Rasa server over
// socket.io (websocket transport only, so several server replicas need no sticky sessions),
// keeps the conversation id in localStorage (a reload or another page of the site goes on
// with the same conversation, whose history the server sends from its tracker store), and
// queues messages typed while offline in localStorage, each with a message_id, until the
// server acknowledges them. Everything it shows is built with textContent/createElement.
import { io } from "socket.io-client";
import { palette } from "./colors.js";
import { appendText, renderBotText } from "./render.js";
import { STYLES } from "./styles.js";

const ALERT_HEADINGS = {
  emergency: "Emergency warning",
  urgent: "Urgent warning",
  watch: "Warning sign",
};
const STATUS_TEXT = {
  connecting: "Connecting…",
  online: "Connected",
  offline: "Offline, reconnecting… Messages you send will wait and go when the connection is back.",
};

function randomId() {
  if (globalThis.crypto && typeof crypto.randomUUID === "function") return crypto.randomUUID().replace(/-/g, "");
  const bytes = new Uint8Array(16);
  crypto.getRandomValues(bytes);
  return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
}

/** Reads the settings from the script tag's data-* attributes. */
export function readConfig(script) {
  const data = (script && script.dataset) || {};
  return {
    serverUrl: data.serverUrl || window.location.origin,
    socketPath: data.socketPath || "/socket.io",
    clinicName: (data.clinicName || "Your clinic").slice(0, 80),
    primaryColor: data.primaryColor || "#005a9c",
    emergencyNumber: /^\d{2,4}$/.test(data.emergencyNumber || "") ? data.emergencyNumber : "911",
    open: data.open === "true",
  };
}

/** localStorage that never throws (private modes, full storage): the chat still works. */
class Store {
  constructor(prefix) {
    this.prefix = prefix;
  }
  get(key, fallback) {
    try {
      const raw = window.localStorage.getItem(this.prefix + key);
      return raw === null ? fallback : JSON.parse(raw);
    } catch {
      return fallback;
    }
  }
  set(key, value) {
    try {
      window.localStorage.setItem(this.prefix + key, JSON.stringify(value));
    } catch {
      /* storage unavailable: keep going in memory */
    }
  }
}

function el(doc, tag, className, text) {
  const node = doc.createElement(tag);
  if (className) node.className = className;
  if (text !== undefined) node.textContent = text;
  return node;
}

/** A speech bubble icon, drawn (no emoji font or image file needed). */
function speechBubble(doc) {
  const ns = "http://www.w3.org/2000/svg";
  const svg = doc.createElementNS(ns, "svg");
  svg.setAttribute("viewBox", "0 0 24 24");
  svg.setAttribute("width", "22");
  svg.setAttribute("height", "22");
  svg.setAttribute("aria-hidden", "true");
  svg.setAttribute("focusable", "false");
  const path = doc.createElementNS(ns, "path");
  path.setAttribute("d", "M4 4h16a2 2 0 0 1 2 2v9a2 2 0 0 1-2 2H10l-5 4v-4H4a2 2 0 0 1-2-2V6a2 2 0 0 1 2-2z");
  path.setAttribute("fill", "currentColor");
  svg.appendChild(path);
  return svg;
}

class ChatWidget {
  constructor(config) {
    this.config = config;
    this.store = new Store(`spine-chat:${config.serverUrl}:`);
    this.sessionId = this.store.get("session", null);
    this.queue = this.store.get("queue", []).filter((m) => m && typeof m.text === "string" && m.message_id);
    this.inflight = new Set();
    this.userNodes = new Map(); // message_id -> user message node
    this.socket = null;
    this.confirmed = false;
    this.lastNode = null;
    this.pinned = null; // a live warning kept in view
    this.buildDom();
    this.setStatus("connecting");
    if (config.open || this.store.get("open", false)) this.open(false);
    else if (this.queue.length) this.connect(); // deliver what was typed before a reload
  }

  // ---- DOM ------------------------------------------------------------------------

  buildDom() {
    const doc = document;
    const colors = palette(this.config.primaryColor);
    this.host = el(doc, "div");
    this.host.id = "spine-chat-widget";
    this.host.style.setProperty("--primary", colors.primary);
    this.host.style.setProperty("--on-primary", colors.onPrimary);
    this.host.style.setProperty("--accent", colors.accent);
    const shadow = this.host.attachShadow({ mode: "open" });
    const style = el(doc, "style");
    style.textContent = STYLES;
    shadow.appendChild(style);
    const root = el(doc, "div", "root");
    shadow.appendChild(root);
    const name = this.config.clinicName;

    this.launcher = el(doc, "button", "launcher");
    this.launcher.type = "button";
    this.launcher.setAttribute("aria-expanded", "false");
    this.launcher.setAttribute("aria-controls", "spine-chat-panel");
    const icon = speechBubble(doc);
    this.launcher.append(icon, el(doc, "span", "", "Questions? Chat with us"));
    this.launcher.addEventListener("click", () => this.open(true));

    this.panel = el(doc, "section", "panel");
    this.panel.id = "spine-chat-panel";
    this.panel.hidden = true;
    this.panel.setAttribute("aria-labelledby", "spine-chat-title");
    this.panel.addEventListener("keydown", (e) => {
      if (e.key === "Escape") this.close();
    });

    const header = el(doc, "header");
    const heading = el(doc, "div", "heading");
    const title = el(doc, "h2", "", `${name} assistant`);
    title.id = "spine-chat-title";
    this.status = el(doc, "p", "status");
    this.status.setAttribute("role", "status");
    const dot = el(doc, "span", "dot");
    dot.setAttribute("aria-hidden", "true");
    this.statusText = el(doc, "span");
    this.status.append(dot, this.statusText);
    heading.append(title, this.status);
    this.closeButton = el(doc, "button", "close", "\u00d7");
    this.closeButton.type = "button";
    this.closeButton.setAttribute("aria-label", "Close chat");
    this.closeButton.addEventListener("click", () => this.close());
    header.append(heading, this.closeButton);

    const intro = el(doc, "p", "intro");
    intro.append(
      doc.createTextNode(`An automated assistant: it answers by quoting ${name}'s handouts. In an emergency, call `),
    );
    appendText(doc, intro, this.config.emergencyNumber, { links: true, emergencyNumbers: [this.config.emergencyNumber] });
    intro.append(doc.createTextNode("."));

    this.log = el(doc, "div", "log");
    this.log.setAttribute("role", "log");
    this.log.setAttribute("aria-live", "polite");
    this.log.setAttribute("aria-label", "Conversation");
    this.log.tabIndex = 0;

    this.typing = el(doc, "div", "typing");
    this.typing.hidden = true;
    const dots = el(doc, "span", "dots");
    dots.setAttribute("aria-hidden", "true");
    dots.append(el(doc, "span", "", "\u25cf"), el(doc, "span", "", "\u25cf"), el(doc, "span", "", "\u25cf"));
    this.typing.append(dots, doc.createTextNode(" The assistant is typing"));

    const form = el(doc, "form");
    form.noValidate = true;
    const label = el(doc, "label", "", "Your message");
    label.htmlFor = "spine-chat-input";
    const row = el(doc, "div", "row");
    this.input = el(doc, "textarea");
    this.input.id = "spine-chat-input";
    this.input.rows = 2;
    this.input.maxLength = 20000;
    this.input.setAttribute("aria-describedby", "spine-chat-hint");
    const send = el(doc, "button", "", "Send");
    send.type = "submit";
    row.append(this.input, send);
    const hint = el(doc, "p", "hint", "Enter sends. Shift+Enter starts a new line.");
    hint.id = "spine-chat-hint";
    form.append(label, row, hint);
    form.addEventListener("submit", (e) => {
      e.preventDefault();
      this.submit();
    });
    this.input.addEventListener("keydown", (e) => {
      if (e.key === "Enter" && !e.shiftKey && !e.isComposing) {
        e.preventDefault();
        this.submit();
      }
    });

    this.panel.append(header, intro, this.log, this.typing, form);
    root.append(this.launcher, this.panel);
    document.body.appendChild(this.host);
    this.renderQueued();
  }

  open(focus) {
    this.panel.hidden = false;
    this.launcher.setAttribute("aria-expanded", "true");
    this.store.set("open", true);
    this.connect();
    this.scrollDown();
    if (focus) this.input.focus();
  }

  close() {
    this.panel.hidden = true;
    this.launcher.setAttribute("aria-expanded", "false");
    this.store.set("open", false);
    this.launcher.focus();
  }

  setStatus(state) {
    this.status.dataset.state = state;
    this.statusText.textContent = STATUS_TEXT[state];
    for (const node of this.userNodes.values()) this.refreshState(node);
  }

  scrollDown() {
    // A warning just received stays in view from its top while the rest of the turn arrives.
    if (this.pinned && this.pinned.isConnected) {
      this.log.scrollTop = this.pinned.offsetTop - this.log.offsetTop - 8;
    } else {
      this.log.scrollTop = this.log.scrollHeight;
    }
  }

  updateTyping() {
    this.typing.hidden = this.inflight.size === 0;
  }

  // ---- messages -------------------------------------------------------------------

  addUser(text, messageId, pending) {
    const doc = document;
    const node = el(doc, "div", "msg user");
    node.append(el(doc, "span", "sr-only", "You said: "));
    node.append(el(doc, "p", "", text));
    if (messageId) {
      node.dataset.messageId = messageId;
      node.dataset.pending = pending ? "true" : "false";
      this.userNodes.set(messageId, node);
      this.refreshState(node);
    }
    this.log.appendChild(node);
    this.lastNode = node;
    this.scrollDown();
    return node;
  }

  refreshState(node) {
    let state = node.querySelector(".state");
    if (node.dataset.pending !== "true") {
      if (state) state.remove();
      return;
    }
    if (!state) {
      state = el(document, "span", "state");
      node.appendChild(state);
    }
    const sending = this.inflight.has(node.dataset.messageId);
    state.textContent = sending ? "Sending…" : "Not sent yet: it will go when the connection is back.";
  }

  addBot(message, live) {
    const doc = document;
    const metadata = (message && typeof message.metadata === "object" && message.metadata) || {};
    const text = typeof message.text === "string" ? message.text : "";
    const level = ALERT_HEADINGS[message.alert] ? message.alert : ALERT_HEADINGS[metadata.alert] ? metadata.alert : null;
    const links = { links: true, emergencyNumbers: [this.config.emergencyNumber, "911"] };
    this.clearReplies();
    if (metadata.contacts && this.lastNode && this.lastNode.classList.contains("alert")) {
      // the clinic's numbers belong to the warning just shown
      const contacts = el(doc, "div", "contacts");
      renderBotText(doc, contacts, text, links);
      this.lastNode.appendChild(contacts);
      this.scrollDown();
      return;
    }
    const node = el(doc, "div", "msg bot");
    node.append(el(doc, "span", "sr-only", "Assistant: "));
    if (level) {
      node.classList.add("alert", `alert-${level}`);
      if (live) {
        node.setAttribute("role", "alert");
        this.pinned = node;
      }
      const heading = el(doc, "p", "alert-heading");
      const icon = el(doc, "span", "icon", "!");
      icon.setAttribute("aria-hidden", "true");
      heading.append(icon, el(doc, "span", "", ALERT_HEADINGS[level]));
      node.appendChild(heading);
    } else if (metadata.error) {
      node.className = "msg system";
    }
    renderBotText(doc, node, text, links);
    const replies = Array.isArray(message.quick_replies) ? message.quick_replies : [];
    if (replies.length) {
      const group = el(doc, "div", "replies");
      group.setAttribute("role", "group");
      group.setAttribute("aria-label", "Suggested answers");
      for (const reply of replies.slice(0, 6)) {
        const title = String(reply.title || "");
        const payload = String(reply.payload || title);
        const button = el(doc, "button", "", title);
        button.type = "button";
        button.addEventListener("click", () => {
          this.send(payload, title);
          this.input.focus();
        });
        group.appendChild(button);
      }
      node.appendChild(group);
    }
    this.log.appendChild(node);
    this.lastNode = node;
    this.scrollDown();
  }

  clearReplies() {
    for (const group of this.log.querySelectorAll(".replies")) group.remove();
  }

  renderHistory(payload) {
    if (!payload || !Array.isArray(payload.messages)) return;
    if (payload.error && payload.messages.length === 0 && this.log.childElementCount) return;
    const delivered = new Set(payload.messages.filter((m) => m && m.sender === "user").map((m) => m.message_id));
    this.queue = this.queue.filter((m) => !delivered.has(m.message_id));
    this.saveQueue();
    this.log.textContent = "";
    this.pinned = null;
    this.userNodes.clear();
    this.lastNode = null;
    payload.messages.forEach((m, index) => {
      if (!m || typeof m.text !== "string") return;
      if (m.sender === "user") {
        this.addUser(m.text, null, false);
      } else {
        const last = index === payload.messages.length - 1;
        this.addBot(last ? m : { ...m, quick_replies: [] }, false);
      }
    });
    this.renderQueued();
  }

  renderQueued() {
    for (const item of this.queue) {
      if (!this.userNodes.has(item.message_id)) this.addUser(item.display_text || item.text, item.message_id, true);
    }
  }

  // ---- sending --------------------------------------------------------------------

  submit() {
    const text = this.input.value;
    if (!text.trim()) {
      this.input.focus();
      return;
    }
    this.input.value = "";
    this.send(text, null);
  }

  send(text, displayText) {
    this.pinned = null;
    const item = { message_id: randomId(), text, display_text: displayText, created: Date.now() };
    this.queue.push(item);
    this.saveQueue();
    this.clearReplies();
    this.addUser(displayText || text, item.message_id, true);
    this.flush();
  }

  saveQueue() {
    this.store.set("queue", this.queue);
  }

  flush() {
    if (!this.socket || !this.socket.connected || !this.confirmed) return;
    for (const item of this.queue) {
      if (!this.inflight.has(item.message_id)) this.emit(item);
    }
  }

  emit(item) {
    const socket = this.socket;
    const id = item.message_id;
    this.inflight.add(id);
    this.updateTyping();
    const node = this.userNodes.get(id);
    if (node) this.refreshState(node);
    const metadata = item.display_text ? { display_text: item.display_text } : {};
    socket.emit(
      "user_uttered",
      { message: item.text, session_id: this.sessionId, message_id: id, metadata },
      (ack) => {
        if (socket !== this.socket) return;
        this.inflight.delete(id);
        this.queue = this.queue.filter((m) => m.message_id !== id);
        this.saveQueue();
        const sent = this.userNodes.get(id);
        if (sent) {
          sent.dataset.pending = "false";
          this.refreshState(sent);
          if (ack && ack.ok === false) sent.dataset.refused = ack.error || "refused";
        }
        this.updateTyping();
      },
    );
  }

  // ---- the connection -------------------------------------------------------------

  connect() {
    if (this.socket) return;
    const socket = io(this.config.serverUrl, {
      path: this.config.socketPath,
      transports: ["websocket"],
      reconnection: true,
      reconnectionDelay: 1000,
      reconnectionDelayMax: 5000,
    });
    this.socket = socket;
    socket.on("connect", () => {
      this.confirmed = false;
      socket.emit("session_request", { session_id: this.sessionId });
    });
    socket.on("session_confirm", (sessionId) => {
      if (typeof sessionId !== "string") return;
      this.sessionId = sessionId;
      this.store.set("session", sessionId);
      this.confirmed = true;
      this.setStatus("online");
    });
    socket.on("history", (payload) => {
      this.renderHistory(payload);
      this.flush(); // after the history: what it shows as delivered is not sent again
    });
    socket.on("bot_uttered", (message) => {
      if (message && typeof message === "object") this.addBot(message, true);
    });
    socket.on("user_echo", (message) => {
      // a message sent from another tab or page of this conversation
      if (message && typeof message.text === "string" && !this.userNodes.has(message.message_id)) {
        this.addUser(message.text, null, false);
      }
    });
    socket.on("disconnect", () => {
      this.confirmed = false;
      this.inflight.clear();
      this.updateTyping();
      this.setStatus("offline");
    });
    socket.on("connect_error", () => this.setStatus("offline"));
  }
}

// The script tag that loaded the widget, read now: document.currentScript is only set while
// the script runs, not when DOMContentLoaded fires.
const SCRIPT = document.currentScript || document.querySelector("script[data-server-url]");

function start() {
  if (document.getElementById("spine-chat-widget")) return; // embedded twice
  window.spineChatWidget = new ChatWidget(readConfig(SCRIPT));
}

if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
else start();
