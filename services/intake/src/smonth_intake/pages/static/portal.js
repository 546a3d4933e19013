// The public pages' only script: the receipt's copy button and its "saved" confirmation, and a
// form sent only once. Every page works without it, except that nothing then warns on leaving.
"use strict";

(function () {
  const form = document.getElementById("tip-form");
  if (form) {
    form.addEventListener("submit", () => {
      const send = form.querySelector("button[type=submit]");
      // Disabled after the browser has taken the click, so the post still goes out once.
      setTimeout(() => { send.disabled = true; send.textContent = "正在提交…"; }, 0);
    });
  }
  const summary = document.getElementById("error-summary");
  if (summary) summary.focus();
  const result = document.getElementById("result");
  if (result) result.focus();

  const code = document.getElementById("receipt-code");
  if (!code) return;
  let saved = false;
  const warn = (event) => {
    if (saved) return;
    event.preventDefault();
    event.returnValue = "";
  };
  window.addEventListener("beforeunload", warn);

  const status = document.getElementById("copy-status");
  document.getElementById("copy-code").addEventListener("click", async () => {
    const text = code.dataset.code;
    try {
      await navigator.clipboard.writeText(text);
      status.textContent = "已复制，请粘贴到安全的地方保存";
    } catch (error) {
      const range = document.createRange();
      range.selectNodeContents(code);
      const selection = window.getSelection();
      selection.removeAllRanges();
      selection.addRange(range);
      status.textContent = "已选中回执码，请长按或按 Ctrl+C 复制";
    }
  });

  document.getElementById("saved-form").addEventListener("submit", (event) => {
    event.preventDefault();
    saved = true;
    window.removeEventListener("beforeunload", warn);
    event.target.hidden = true;
    const after = document.getElementById("after-saved");
    after.hidden = false;
    after.querySelector("a").focus();
  });
}());
