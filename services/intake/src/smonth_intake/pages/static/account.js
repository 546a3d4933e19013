// The account pages: which one is shown follows the path (/portal/<page>). Each form posts JSON
// to intake's own API; a refusal's Chinese message is shown next to its field. The one-time link
// comes in the fragment, which no server sees, and is dropped from the address bar at once. The
// tokens a sign-in answers are kept by session.js, which every signed-in page shares.
"use strict";

const ROLES = { unit: "单位联络员", staff: "办公室工作人员", admin: "管理员", system: "部门系统" };

const page = location.pathname.replace(/^\/portal\//, "").replace(/\/$/, "");
const link = (location.hash.match(/token=([^&]+)/) || [])[1];
if (location.hash) history.replaceState(null, "", location.pathname);

function show(text, kind) {
  const message = document.getElementById("message");
  message.textContent = text;
  message.className = `message ${kind}`;
  message.hidden = !text;
}

function clearErrors(form) {
  for (const p of form.querySelectorAll(".field-error")) p.textContent = "";
  for (const input of form.querySelectorAll("input")) input.removeAttribute("aria-invalid");
}

function fieldError(form, field, text) {
  const slot = form.querySelector(`.field-error[data-for="${field}"]`);
  if (!slot) return false;
  slot.textContent = text;
  form.querySelector(`[name="${field}"]`)?.setAttribute("aria-invalid", "true");
  return true;
}

function showProblem(form, problem) {
  let placed = false;
  for (const error of problem.errors || []) {
    const field = (error.loc || []).filter((part) => typeof part === "string").pop();
    placed = fieldError(form, field, error.msg_zh || error.msg) || placed;
  }
  if (!placed) show(problem.detail_zh || problem.detail || "请求未被接受，请稍后再试。", "error");
}

function signedIn(tokens) {
  session.keep(tokens);
  const account = tokens.account || {};
  const panel = document.getElementById("signed-in");
  for (const dd of panel.querySelectorAll("[data-field]")) {
    const value = account[dd.dataset.field];
    dd.textContent = dd.dataset.field === "role" ? ROLES[value] || value : value || "—";
  }
  document.getElementById("to-unit").hidden = account.role !== "unit";
  panel.hidden = false;
  for (const section of document.querySelectorAll("[data-page]")) section.hidden = true;
}

async function submit(event) {
  event.preventDefault();
  const form = event.currentTarget;
  clearErrors(form);
  show("", "");
  const values = Object.fromEntries(new FormData(form));
  if ("confirm" in values) {
    if (values.password.length < 10) {
      fieldError(form, "password", "密码至少 10 个字符。");
      return;
    }
    if (values.confirm !== values.password) {
      fieldError(form, "confirm", "两次输入的密码不一致。");
      return;
    }
    delete values.confirm;
  }
  if ("needsLink" in form.dataset) values.token = link;
  const button = form.querySelector("button[type=submit]");
  button.disabled = true;
  try {
    const response = await fetch(form.dataset.action, {
      method: "POST",
      headers: { "Content-Type": "application/json", Accept: "application/json" },
      body: JSON.stringify(values),
    });
    const body = await response.json().catch(() => ({}));
    if (!response.ok) {
      showProblem(form, body);
      return;
    }
    form.reset();
    if (body.access_token) {
      signedIn(body);
      show("登录成功。", "ok");
    } else if ("needsLink" in form.dataset) {
      // The password is set; the person signs in with it, which also shows it was typed right.
      for (const section of document.querySelectorAll("[data-page]")) {
        section.hidden = section.dataset.page !== "sign-in";
      }
      document.getElementById("sign-in-email").value = body.email || "";
      document.getElementById("sign-in-password").focus();
      show("密码已设置，请用新密码登录。", "ok");
    } else {
      show(body.status_zh || "已提交。", "ok");
    }
  } catch {
    show("无法连接服务器，请检查网络后重试。", "error");
  } finally {
    button.disabled = false;
  }
}

document.addEventListener("DOMContentLoaded", () => {
  const section = document.querySelector(`[data-page="${page}"]`);
  if (section) section.hidden = false;
  for (const form of document.querySelectorAll("form")) form.addEventListener("submit", submit);
  document.getElementById("sign-out").addEventListener("click", session.signOut);
  if (section?.querySelector("[data-needs-link]") && !link) {
    section.querySelector("form").hidden = true;
    show("链接不完整：请从邮件中完整打开链接，或联系办公室重新发送。", "error");
  }
  const kept = session.kept();
  if (page === "sign-in" && kept) signedIn(kept);
});
