// The widget's styles, inside its shadow root so the clinic page's CSS cannot break them
// (and they cannot break the page). Sizes in px: the host page may change the root font.
export const STYLES = `
:host { all: initial; }
* { box-sizing: border-box; }
.root {
  font: 16px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, Arial, sans-serif;
  color: #1b1f23;
}
.sr-only {
  position: absolute; width: 1px; height: 1px; padding: 0; margin: -1px;
  overflow: hidden; clip: rect(0 0 0 0); white-space: nowrap; border: 0;
}
button, textarea { font: inherit; }
:focus-visible, .log:focus {
  outline: 3px solid #000; outline-offset: 2px; box-shadow: 0 0 0 2px #fff;
}
.launcher {
  position: fixed; right: 16px; bottom: 16px; z-index: 2147483000;
  display: inline-flex; align-items: center; gap: 8px;
  min-height: 48px; padding: 10px 18px; border: 0; border-radius: 24px;
  background: var(--primary); color: var(--on-primary); font-weight: 600; cursor: pointer;
  box-shadow: 0 2px 8px rgba(0,0,0,.3);
}
.launcher[aria-expanded="true"] { display: none; }
.panel {
  position: fixed; right: 16px; bottom: 16px; z-index: 2147483001;
  width: 380px; max-width: calc(100vw - 32px);
  height: 640px; max-height: calc(100vh - 32px);
  display: flex; flex-direction: column; background: #fff;
  border: 1px solid #6b7280; border-radius: 12px; overflow: hidden;
  box-shadow: 0 6px 24px rgba(0,0,0,.3);
}
.panel[hidden] { display: none; }
header {
  display: flex; align-items: flex-start; gap: 8px; padding: 10px 12px;
  background: var(--primary); color: var(--on-primary);
}
.heading { flex: 1; min-width: 0; }
h2 { margin: 0; font-size: 17px; line-height: 1.3; overflow-wrap: anywhere; }
.status { margin: 2px 0 0; font-size: 14px; display: flex; align-items: center; gap: 6px; }
.dot { width: 10px; height: 10px; border-radius: 50%; border: 2px solid var(--on-primary); flex: none; }
.status[data-state="online"] .dot { background: #2e9d4a; }
.status[data-state="connecting"] .dot { background: #e0a800; }
.status[data-state="offline"] .dot { background: #c62828; }
.close {
  flex: none; min-width: 44px; min-height: 44px; border: 2px solid var(--on-primary);
  border-radius: 8px; background: transparent; color: var(--on-primary); font-size: 22px;
  line-height: 1; cursor: pointer;
}
.intro { margin: 0; padding: 8px 12px; font-size: 14px; background: #f7f7f8; border-bottom: 1px solid #d0d4d9; }
.log {
  flex: 1; overflow-y: auto; padding: 12px; display: flex; flex-direction: column; gap: 10px;
  overflow-wrap: anywhere;
}
.msg { max-width: 92%; padding: 8px 12px; border-radius: 12px; }
.msg p { margin: 0; white-space: pre-wrap; }
.msg p + p, .msg p + figure, .msg figure + p, .msg figure + figure { margin-top: 8px; }
.user { align-self: flex-end; background: var(--primary); color: var(--on-primary); border-bottom-right-radius: 4px; }
.user .state { display: block; margin-top: 4px; font-size: 13px; font-style: italic; }
.bot { align-self: flex-start; background: #eef0f3; border-bottom-left-radius: 4px; }
.system { align-self: center; background: #fff; border: 1px dashed #4b5563; font-size: 15px; }
figure.quote { margin: 0; }
blockquote {
  margin: 0; padding: 6px 10px; background: #fff; border-left: 4px solid var(--accent);
  border-radius: 4px;
}
figcaption { margin-top: 4px; font-size: 14px; color: #374151; }
cite { font-style: italic; }
a { color: var(--accent); }
a.tel { font-weight: 700; white-space: nowrap; }
.alert { max-width: 100%; width: 100%; border: 3px solid; border-radius: 8px; }
.alert .alert-heading {
  display: flex; align-items: center; gap: 8px; font-weight: 800; font-size: 17px; margin-bottom: 6px;
}
.alert .icon {
  flex: none; display: inline-flex; align-items: center; justify-content: center;
  width: 28px; height: 28px; border-radius: 50%; color: #fff; font-weight: 900;
}
.alert-emergency { background: #fde8e8; border-color: #b00020; }
.alert-emergency .alert-heading, .alert-emergency a { color: #8a0014; }
.alert-emergency .icon { background: #b00020; }
.alert-urgent { background: #fff1dc; border-color: #a34a00; }
.alert-urgent .alert-heading, .alert-urgent a { color: #7a3700; }
.alert-urgent .icon { background: #a34a00; }
.alert-watch { background: #e8f1fb; border-color: #0b4f8a; }
.alert-watch .alert-heading, .alert-watch a { color: #0b4f8a; }
.alert-watch .icon { background: #0b4f8a; }
.alert a.tel { display: inline-block; padding: 0 2px; font-size: 18px; }
.alert .contacts { margin-top: 8px; padding-top: 8px; border-top: 1px solid currentColor; }
.replies { display: flex; flex-wrap: wrap; gap: 8px; margin-top: 8px; }
.replies button, form button {
  min-height: 44px; padding: 8px 16px; border-radius: 8px; cursor: pointer;
}
.replies button { background: #fff; color: var(--accent); border: 2px solid var(--accent); font-weight: 600; }
.typing { padding: 4px 12px; font-size: 14px; color: #374151; }
.typing[hidden] { display: none; }
.typing .dots span { animation: blink 1.2s infinite; }
.typing .dots span:nth-child(2) { animation-delay: .2s; }
.typing .dots span:nth-child(3) { animation-delay: .4s; }
@keyframes blink { 0%, 100% { opacity: .2; } 50% { opacity: 1; } }
@media (prefers-reduced-motion: reduce) { .typing .dots span { animation: none; } }
form { padding: 8px 12px 12px; border-top: 1px solid #d0d4d9; }
label { display: block; font-size: 14px; font-weight: 600; margin-bottom: 4px; }
.row { display: flex; gap: 8px; align-items: stretch; }
textarea {
  flex: 1; min-width: 0; resize: none; padding: 8px 10px; font-size: 16px;
  border: 2px solid #4b5563; border-radius: 8px; color: #1b1f23; background: #fff;
}
form button { flex: none; border: 0; background: var(--primary); color: var(--on-primary); font-weight: 700; }
.hint { margin: 4px 0 0; font-size: 13px; color: #4b5563; }
@media (max-width: 480px) {
  .panel {
    right: 0; bottom: 0; left: 0; top: 0; width: 100%; max-width: 100%;
    height: 100%; max-height: 100%; border-radius: 0; border: 0;
  }
  .launcher { right: 12px; bottom: 12px; }
  .msg { max-width: 100%; }
}
`;
