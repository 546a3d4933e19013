// The unit's desk: every read and write here is a call to intake's own API with the account
// session.js keeps, and a refusal's Chinese message is shown next to its field.
"use strict";

const XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet";
const VIEWS = ["tasks", "progress", "liaison", "history"];
const LINKS = { progress: "#progress", liaison: "#liaison" };
const $ = (id) => document.getElementById(id);

let account = {};
let unit = null;

async function api(path, { method = "GET", json, body, type, raw = false } = {}) {
  const send = (token) => {
    const headers = { Authorization: `Bearer ${token}`, Accept: "application/json" };
    if (json !== undefined) headers["Content-Type"] = "application/json";
    if (type) headers["Content-Type"] = type;
    return fetch(path, {
      method, headers, body: json !== undefined ? JSON.stringify(json) : body,
    });
  };
  const response = await session.authorised(send, () => location.assign("/portal/sign-in"));
  if (raw && response.ok) return { ok: true, status: response.status, blob: await response.blob() };
  const answer = await response.json().catch(() => ({}));
  return { ok: response.ok, status: response.status, body: answer };
}

function banner(text) {
  $("banner-text").textContent = text || "";
  $("banner").hidden = !text;
}

function message(id, text, kind) {
  const slot = $(id);
  slot.textContent = text;
  slot.className = `message ${kind || ""}`;
}

function clearErrors(form) {
  for (const slot of form.querySelectorAll(".error[data-for]")) slot.textContent = "";
  for (const field of form.querySelectorAll(".field-invalid")) field.classList.remove("field-invalid");
  for (const input of form.querySelectorAll("[aria-invalid]")) input.removeAttribute("aria-invalid");
}

// Each refused field's message beside it (the field is the last string of `loc` that names a
// slot of the form); what names no field goes to the form's own message line.
function showProblem(form, problem, messageId) {
  let first = null;
  const loose = [];
  for (const error of problem.errors || []) {
    const names = (error.loc || []).filter((part) => typeof part === "string").reverse();
    const name = names.find((n) => form.querySelector(`.error[data-for="${n}"]`));
    const slot = name && form.querySelector(`.error[data-for="${name}"]`);
    if (!slot) {
      loose.push(error.msg_zh || error.msg);
      continue;
    }
    if (!slot.textContent) slot.textContent = error.msg_zh || error.msg;
    slot.closest(".field").classList.add("field-invalid");
    const input = slot.closest(".field").querySelector("input");
    input.setAttribute("aria-invalid", "true");
    first = first || input;
  }
  const count = (problem.errors || []).length;
  const text = loose.length ? loose.join("；") : problem.detail_zh || problem.detail || "提交未被接受，请稍后再试。";
  message(messageId, first && !loose.length ? `有 ${count} 处需要修改，请查看标红的项目。` : text, "error");
  if (first) first.focus();
}

// A calendar date (2021-07-05) as the pages write it: 2021年7月5日.
function chineseDay(iso) {
  const [year, month, date] = iso.split("-").map(Number);
  return `${year}年${month}月${date}日`;
}

function day(iso) {
  return new Date(iso).toLocaleString("zh-CN", { timeZone: "Asia/Shanghai", hour12: false });
}

function element(tag, className, text) {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (text !== undefined) node.textContent = text;
  return node;
}

async function loadTasks() {
  const { ok, body } = await api(`/v1/units/${unit}/tasks`);
  if (!ok) return banner(body.detail_zh || "无法读取本单位任务。");
  $("unit-name").textContent = body.name;
  $("tasks-lead").textContent = `今天是${chineseDay(body.today)}。以下是本单位需要完成的报送事项：`;
  const list = $("tasks");
  list.replaceChildren();
  for (const task of body.tasks) {
    const item = element("li", `task status-${task.status}`);
    item.dataset.task = task.task;
    const title = element("h2");
    if (LINKS[task.task]) {
      const link = element("a", "", task.title_zh);
      link.href = LINKS[task.task];
      title.append(link);
    } else {
      title.textContent = task.title_zh;
    }
    item.append(title, element("p", "", ""));
    item.lastChild.append(element("span", "badge", task.status_zh), ` ${task.detail_zh}`);
    if (task.due) item.append(element("p", "due", `截止日期：${chineseDay(task.due)}`));
    list.append(item);
  }
  if (!$("as_of").value) $("as_of").value = body.today;
}

async function loadProgress() {
  const { ok, status, body } = await api(`/v1/progress/${unit}`);
  if (!ok && status !== 404) return banner(body.detail_zh || "无法读取上次报送的统计数。");
  const last = ok ? body : { indicators: {} };
  $("progress-last").textContent = ok
    ? `已填入上次报送（截至${chineseDay(last.as_of)}）的累计数，请在此基础上更新。`
    : "本单位尚未报送过统计表。";
  for (const input of document.querySelectorAll("[data-indicator]")) {
    const earlier = last.indicators[input.name];
    input.value = earlier ?? "";
    document.querySelector(`[data-last="${input.name}"]`).textContent =
      earlier === undefined ? "" : `；上次报送 ${earlier.toLocaleString("zh-CN")}`;
  }
}

async function submitProgress(event) {
  event.preventDefault();
  const form = event.currentTarget;
  clearErrors(form);
  message("progress-message", "", "");
  const indicators = {};
  for (const input of form.querySelectorAll("[data-indicator]")) {
    const value = input.value.trim().replace(/[,，]/g, "");
    // Digits as a number; anything else as typed, so that the API's own rule names the fault.
    if (value) indicators[input.name] = /^\d+$/.test(value) ? Number(value) : value;
  }
  const button = form.querySelector("button[type=submit]");
  button.disabled = true;
  try {
    const { ok, body } = await api("/v1/progress", {
      method: "POST", json: { unit, as_of: form.as_of.value, indicators },
    });
    if (!ok) return showProblem(form, body, "progress-message");
    message("progress-message", `已提交：截至${chineseDay(form.as_of.value)}的统计数已接收。`, "ok");
    await Promise.all([loadTasks(), loadProgress(), loadHistory()]);
  } finally {
    button.disabled = false;
  }
}

async function downloadWorkbook() {
  const answer = await api(`/v1/progress/${unit}/workbook`, { raw: true });
  if (!answer.ok) return message("workbook-message", answer.body.detail_zh || "下载失败。", "error");
  const link = element("a");
  link.href = URL.createObjectURL(answer.blob);
  link.download = `进展情况统计表-${unit}.xlsx`;
  document.body.append(link);
  link.click();
  link.remove();
  setTimeout(() => URL.revokeObjectURL(link.href), 60000);
}

async function uploadWorkbook() {
  const file = $("workbook-file").files[0];
  const errors = $("workbook-errors");
  errors.hidden = true;
  message("workbook-message", "", "");
  if (!file) return message("workbook-message", "请先选择填好的 .xlsx 文件。", "error");
  const { ok, body } = await api("/v1/progress/workbook", { method: "POST", body: file, type: XLSX });
  if (ok) {
    message("workbook-message", "工作簿已接收，统计数已保存。", "ok");
    await Promise.all([loadTasks(), loadProgress(), loadHistory()]);
    return;
  }
  const found = body.errors || [];
  if (!found.length) return message("workbook-message", body.detail_zh || "上传未被接受。", "error");
  $("workbook-errors-title").textContent = `工作簿有 ${found.length} 处需要修改，未保存任何数据：`;
  errors.querySelector("ul").replaceChildren(...found.map((e) => element("li", "", e.msg_zh)));
  errors.hidden = false;
  errors.focus();
}

async function loadLiaison() {
  const form = $("liaison-form");
  const { ok, body } = await api(`/v1/liaisons/${unit}`);
  const current = ok ? body : { name: account.name, email: account.email };
  $("liaison-lead").textContent = ok
    ? "已填入本单位现任联络员的信息；如有变化，修改后提交。"
    : "本单位尚未报送联络员，请填写后提交。";
  for (const input of form.querySelectorAll("input")) input.value = current[input.name] || "";
}

async function submitLiaison(event) {
  event.preventDefault();
  const form = event.currentTarget;
  clearErrors(form);
  message("liaison-message", "", "");
  const values = Object.fromEntries(new FormData(form));
  const { ok, body } = await api(`/v1/liaisons/${unit}`, { method: "PUT", json: values });
  if (!ok) return showProblem(form, body, "liaison-message");
  message("liaison-message", body.status === "unchanged" ? "联络员信息没有变化。" : "联络员信息已提交。", "ok");
  await Promise.all([loadTasks(), loadHistory()]);
}

async function loadHistory() {
  const { ok, body } = await api(`/v1/units/${unit}/submissions`);
  if (!ok) return banner(body.detail_zh || "无法读取报送记录。");
  const list = $("history");
  list.replaceChildren();
  $("history-lead").textContent = body.submissions.length
    ? `共 ${body.submissions.length} 条，最新的在前。`
    : "本单位还没有报送记录。";
  for (const entry of body.submissions) {
    const item = element("li", "entry");
    item.dataset.kind = entry.kind;
    item.append(
      element("p", "when", day(entry.received_at)),
      element("p", "what", `${entry.kind_zh}：${entry.about}`),
      element("p", "status", entry.status_zh),
    );
    list.append(item);
  }
}

function show() {
  const view = VIEWS.includes(location.hash.slice(1)) ? location.hash.slice(1) : "tasks";
  for (const section of document.querySelectorAll("section[data-view]")) {
    section.hidden = section.dataset.view !== view;
  }
  for (const link of document.querySelectorAll(".tabs a[data-view]")) {
    if (link.dataset.view === view) link.setAttribute("aria-current", "page");
    else link.removeAttribute("aria-current");
  }
}

document.addEventListener("DOMContentLoaded", async () => {
  account = ((await session.adopt()) || {}).account || {};
  unit = account.role === "unit" ? account.unit : null;
  if (!unit) {
    $("signed-out").hidden = false;
    for (const link of document.querySelectorAll(".tabs a")) link.hidden = true;
    return;
  }
  $("whoami").hidden = false;
  $("account-name").textContent = `联络员 ${account.name || ""}`;
  $("sign-out").addEventListener("click", session.signOut);
  $("progress-form").addEventListener("submit", submitProgress);
  $("liaison-form").addEventListener("submit", submitLiaison);
  $("download-workbook").addEventListener("click", downloadWorkbook);
  $("upload-workbook").addEventListener("click", uploadWorkbook);
  window.addEventListener("hashchange", show);
  show();
  try {
    await Promise.all([loadTasks(), loadProgress(), loadLiaison(), loadHistory()]);
    document.body.dataset.ready = "true";
  } catch (error) {
    if (error.message !== "signed out") banner("无法连接服务器，请检查网络后刷新页面。");
  }
});
