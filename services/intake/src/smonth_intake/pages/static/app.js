// The signed-in pages (summary report, materials, typical cases, account administration): a
// small app over intake's own API, with the account session.js keeps. A file is checked (type and
// size) before its upload starts, and again by the server, whose Chinese refusal is shown next
// to the field.
"use strict";

(function () {
  const ROLES = { unit: "单位联络员", staff: "办公室工作人员", admin: "管理员" };
  const STATUSES = { invited: "待激活", active: "已激活", withdrawn: "已停用" };
  const $ = (id) => document.getElementById(id);
  const facts = JSON.parse($("facts").textContent);
  const page = document.body.dataset.page;
  const allowed = document.body.dataset.roles.split(" ");

  // One request: XMLHttpRequest, for the upload's progress events that fetch cannot give.
  function send(method, url, body, token, onProgress) {
    return new Promise((resolve, reject) => {
      const xhr = new XMLHttpRequest();
      xhr.open(method, url);
      xhr.setRequestHeader("Accept", "application/json");
      if (token) xhr.setRequestHeader("Authorization", `Bearer ${token}`);
      if (onProgress) {
        xhr.upload.addEventListener("progress", (e) => e.lengthComputable && onProgress(e.loaded, e.total));
      }
      xhr.addEventListener("load", () => {
        let answer = {};
        try {
          answer = JSON.parse(xhr.responseText || "{}");
        } catch {
          answer = {};
        }
        resolve({ status: xhr.status, ok: xhr.status >= 200 && xhr.status < 300, body: answer });
      });
      xhr.addEventListener("error", () => reject(new Error("network")));
      if (body instanceof FormData || body === undefined) {
        xhr.send(body);
      } else {
        xhr.setRequestHeader("Content-Type", "application/json");
        xhr.send(JSON.stringify(body));
      }
    });
  }

  function call(method, url, body, onProgress) {
    return session.authorised((token) => send(method, url, body, token, onProgress),
      () => needSignIn("登录已过期，请重新登录。"));
  }

  function needSignIn(text) {
    $("content").hidden = true;
    $("who").hidden = true;
    $("need-sign-in-text").textContent = text;
    $("need-sign-in").hidden = false;
  }

  function banner(text, kind) {
    $("banner").className = `banner banner-${kind}`;
    $("banner-text").textContent = text;
    $("banner").hidden = !text;
  }

  function clearErrors(form) {
    banner("", "ok");
    for (const slot of form.querySelectorAll("[data-for]")) slot.textContent = "";
    for (const field of form.querySelectorAll(".field-invalid")) field.classList.remove("field-invalid");
    for (const input of form.querySelectorAll("[aria-invalid]")) input.removeAttribute("aria-invalid");
  }

  function clearField(form, name) {
    const slot = form.querySelector(`[data-for="${name}"]`);
    if (!slot || !slot.textContent) return;
    slot.textContent = "";
    slot.closest(".field")?.classList.remove("field-invalid");
    form.querySelector(`[name="${name}"]`)?.removeAttribute("aria-invalid");
  }

  function fieldError(form, name, text) {
    const slot = form.querySelector(`[data-for="${name}"]`);
    if (!slot) return false;
    slot.textContent = text;
    slot.closest(".field")?.classList.add("field-invalid");
    form.querySelector(`[name="${name}"]`)?.setAttribute("aria-invalid", "true");
    return true;
  }

  function firstInvalid(form) {
    form.querySelector('[aria-invalid="true"]')?.focus();
  }

  function showProblem(form, answer) {
    const problem = answer.body;
    let placed = false;
    for (const error of problem.errors || []) {
      const name = (error.loc || []).filter((part) => typeof part === "string").pop();
      placed = fieldError(form, name, error.msg_zh || error.msg) || placed;
    }
    if (!placed && answer.status === 413) placed = fieldError(form, "file", problem.detail_zh || "文件过大。");
    if (!placed) banner(problem.detail_zh || problem.detail || "提交未被接受，请稍后再试。", "error");
    firstInvalid(form);
  }

  function values(form) {
    const body = {};
    for (const [name, value] of new FormData(form)) {
      if (typeof value === "string" && value.trim()) body[name] = value.trim();
    }
    return body;
  }

  function moment(iso) {
    if (!iso) return "—";
    return new Date(iso).toLocaleString("zh-CN", { timeZone: "Asia/Shanghai", hour12: false });
  }

  function showResult(form, fields) {
    for (const dd of $("result").querySelectorAll("[data-result]")) {
      dd.textContent = fields[dd.dataset.result] ?? "—";
    }
    form.hidden = true;
    $("result").hidden = false;
    $("result").focus();
  }

  function again(form) {
    form.reset();
    form.hidden = false;
    $("result").hidden = true;
    form.querySelector("input, select, textarea")?.focus();
  }

  // --- files ----------------------------------------------------------------------------------

  const mib = (bytes) => `${(bytes / 1024 / 1024).toFixed(1)} MiB`;
  const size = (bytes) => (bytes < 1024 * 1024 ? `${Math.ceil(bytes / 1024)} KiB` : mib(bytes));

  function typeOf(file) {
    const declared = (facts.aliases[file.type] || file.type || "").toLowerCase();
    if (declared && declared !== "application/octet-stream") return declared;
    const ending = (file.name.split(".").pop() || "").toLowerCase();
    return facts.extensions[ending] || declared;
  }

  // The browser's check: what the server checks by the file's declared type and size.
  function fileRefusal(file, rules) {
    if (file.size === 0) return "所选文件是空的，请重新选择。";
    if (file.size > rules.limit) {
      return `文件过大（${mib(file.size)}），不能超过 ${mib(rules.limit)}；文件未上传。`;
    }
    if (!rules.types.includes(typeOf(file))) {
      return `不接受此类文件（${file.name}）；可上传：${rules.labels.join("、")}。文件未上传。`;
    }
    return "";
  }

  // The chosen file under the type the server expects, when the browser named none.
  function withFile(body, file) {
    const form = new FormData();
    for (const [name, value] of Object.entries(body)) form.append(name, value);
    if (file) form.append("file", file.type ? file : new File([file], file.name, { type: typeOf(file) }));
    return form;
  }

  function progressOf(form) {
    const box = form.querySelector("[data-progress]");
    const bar = box.querySelector("progress");
    const text = box.querySelector("[data-progress-text]");
    return {
      start() {
        bar.value = 0;
        text.textContent = "正在上传…";
        box.hidden = false;
      },
      step(loaded, total) {
        const percent = Math.floor((loaded / total) * 100);
        bar.value = percent;
        bar.dataset.seen = String(Number(bar.dataset.seen || 0) + 1);
        text.textContent = percent < 100
          ? `已上传 ${percent}%（${size(loaded)} / ${size(total)}）`
          : "上传完成，正在检查文件…";
      },
      stop(done) {
        text.textContent = done ? "上传完成。" : "上传未完成。";
        if (!done) bar.value = 0;
      },
    };
  }

  async function upload(form, body, file, rules) {
    const progress = progressOf(form);
    if (file) progress.start();
    try {
      const answer = await call("POST", form.dataset.action, withFile(body, file),
        file ? (loaded, total) => progress.step(loaded, total) : undefined);
      if (file) progress.stop(answer.ok);
      return answer;
    } catch (error) {
      if (file) progress.stop(false);
      throw error;
    }
  }

  function watchFile(form, rulesOf) {
    const input = form.querySelector('input[type="file"]');
    const name = form.querySelector("[data-file-name]");
    const shown = () => {
      const file = input.files[0];
      name.textContent = file ? `${file.name}（${size(file.size)}）` : "未选择文件";
    };
    form.addEventListener("reset", () => setTimeout(shown));
    input.addEventListener("change", () => {
      clearField(form, "file");
      shown();
      const file = input.files[0];
      const refusal = file && fileRefusal(file, rulesOf());
      if (refusal) fieldError(form, "file", refusal);
    });
  }

  // --- the pages ------------------------------------------------------------------------------

  function submitting(form, work) {
    form.addEventListener("input", (event) => clearField(form, event.target.name));
    form.addEventListener("submit", async (event) => {
      event.preventDefault();
      clearErrors(form);
      const button = form.querySelector('button[type="submit"]');
      button.disabled = true;
      try {
        await work();
      } catch (error) {
        if (error.message === "network") banner("无法连接服务器，请检查网络后重试。", "error");
      } finally {
        button.disabled = false;
      }
    });
    for (const button of document.querySelectorAll("[data-again]")) {
      button.addEventListener("click", () => again(form));
    }
  }

  function requireText(form, body, names) {
    for (const name of names) {
      if (!body[name]) fieldError(form, name, "此项为必填项。");
    }
  }

  // What the unit has sent, and what sending again would do (handlers.submit_summary's rules:
  // the title and text replaced, the file only by a new one, an on-time receipt kept).
  function resendEffects(report) {
    const effects = ["标题和正文将被替换为新填写的内容（下方已填入已报送的内容，可在此基础上修改）。"];
    effects.push(report.file
      ? `不选择新附件则保留已报送的附件“${report.file.filename}”；选择新附件则替换它。`
      : "可随再次报送附上附件。");
    effects.push(report.on_time
      ? "本单位已按时报送，再次报送仍记为按时报送，首次报送时间不变。"
      : "本单位此前的报送已逾期，再次报送仍记为逾期。");
    return effects;
  }

  function showSent(report, form) {
    const shown = {
      title: report.title, times: `${report.times} 次`,
      first_received_at: moment(report.first_received_at),
      last_received_at: moment(report.last_received_at),
      on_time: report.on_time ? `按时报送（${moment(report.on_time_received_at)}）` : "逾期报送",
      file: report.file ? `${report.file.filename}（${size(report.file.size)}）` : "无附件",
    };
    for (const dd of $("sent").querySelectorAll("[data-sent]")) dd.textContent = shown[dd.dataset.sent];
    $("resend").replaceChildren(...resendEffects(report).map((text) => {
      const item = document.createElement("li");
      item.textContent = text;
      return item;
    }));
    $("sent-download").hidden = !report.file;
    $("sent").hidden = false;
    $("resend-hint").hidden = true;
    form.querySelector('button[type="submit"]').textContent = "再次提交总结报告";
  }

  async function downloadSent(unit, file) {
    const answer = await session.authorised(
      (token) => fetch(`/v1/summary-reports/${unit}/file`, { headers: { Authorization: `Bearer ${token}` } }),
      () => needSignIn("登录已过期，请重新登录。"));
    if (!answer.ok) return banner("附件下载失败，请稍后再试。", "error");
    const link = document.createElement("a");
    link.href = URL.createObjectURL(await answer.blob());
    link.download = file.filename;
    document.body.append(link);
    link.click();
    link.remove();
    setTimeout(() => URL.revokeObjectURL(link.href), 60000);
  }

  async function summaryPage(account) {
    const form = $("summary-form");
    const rules = JSON.parse(form.dataset.rules);
    let sent = null;
    async function loadSent(prefill) {
      const answer = await call("GET", `/v1/summary-reports/${account.unit}`);
      if (answer.status === 404) return;
      if (!answer.ok) return banner(answer.body.detail_zh || "无法读取已报送的总结报告。", "error");
      sent = answer.body;
      showSent(sent, form);
      if (prefill) {
        $("title").value = sent.title;
        $("body").value = sent.body;
      }
    }
    $("download-summary").addEventListener("click", () => downloadSent(account.unit, sent.file));
    watchFile(form, () => rules);
    submitting(form, async () => {
      const body = { ...values(form), unit: account.unit };
      const file = $("file").files[0];
      requireText(form, body, ["title", "body"]);
      if (file && fileRefusal(file, rules)) fieldError(form, "file", fileRefusal(file, rules));
      if (form.querySelector('[aria-invalid="true"]')) return firstInvalid(form);
      const answer = await upload(form, body, file, rules);
      if (!answer.ok) return showProblem(form, answer);
      showResult(form, { ...answer.body, received_at: moment(answer.body.received_at),
        on_time: answer.body.on_time ? "按时报送" : "逾期报送" });
      await loadSent(false);
    });
    await loadSent(true).catch(() => banner("无法连接服务器，请检查网络后刷新页面。", "error"));
    document.body.dataset.ready = "true";
  }

  function materialsPage(account) {
    const form = $("material-form");
    const rules = JSON.parse(form.dataset.rules);
    const kind = () => form.querySelector('input[name="kind"]:checked').value;
    const fileNeeded = () => kind() !== "practice";
    function shown() {
      const rule = rules[kind()];
      $("file").accept = form.querySelector('input[name="kind"]:checked').dataset.accept;
      form.querySelector("[data-file-hint]").textContent =
        `可上传：${rule.labels.join("、")}，不超过 ${mib(rule.limit)}${fileNeeded() ? "" : "（典型做法可只填说明，不附文件）"}。`;
      form.querySelector("[data-file-required]").hidden = !fileNeeded();
    }
    for (const radio of form.querySelectorAll('input[name="kind"]')) radio.addEventListener("change", shown);
    shown();
    watchFile(form, () => rules[kind()]);
    submitting(form, async () => {
      const body = { ...values(form), unit: account.unit };
      const file = $("file").files[0];
      requireText(form, body, ["title"]);
      if (!file && fileNeeded()) fieldError(form, "file", "请选择要上传的文件。");
      if (file && fileRefusal(file, rules[kind()])) fieldError(form, "file", fileRefusal(file, rules[kind()]));
      if (form.querySelector('[aria-invalid="true"]')) return firstInvalid(form);
      const answer = await upload(form, body, file, rules[kind()]);
      if (!answer.ok) return showProblem(form, answer);
      showResult(form, { ...answer.body, title: body.title });
    });
  }

  function casesPage(account) {
    const form = $("case-form");
    if (!facts.provinces.includes(account.unit)) {
      form.hidden = true;
      $("not-a-province").hidden = false;
      return;
    }
    submitting(form, async () => {
      const body = { ...values(form), province: account.unit };
      requireText(form, body, ["title", "industry", "enterprise", "summary", "media_outlet", "published_on", "url"]);
      if (form.querySelector('[aria-invalid="true"]')) return firstInvalid(form);
      const answer = await call("POST", form.dataset.action, body);
      if (!answer.ok) return showProblem(form, answer);
      showResult(form, { ...answer.body, title: body.title });
    });
  }

  function accountsPage(account) {
    const form = $("account-form");
    const admin = account.role === "admin";
    const role = $("role");
    for (const field of form.querySelectorAll("[data-admin-only]")) field.hidden = !admin;
    const unitShown = () => {
      form.querySelector("[data-unit-field]").hidden = role.value !== "unit";
    };
    role.addEventListener("change", unitShown);

    async function list() {
      const query = new URLSearchParams(values($("filters")));
      $("list-state").textContent = "正在加载…";
      const answer = await call("GET", `/v1/accounts?${query}`);
      if (!answer.ok) {
        $("list-state").textContent = answer.body.detail_zh || "无法加载账号列表。";
        return;
      }
      $("list-state").textContent = answer.body.length ? `共 ${answer.body.length} 个账号` : "没有符合条件的账号。";
      $("accounts").replaceChildren(...answer.body.map(item));
    }

    function item(person) {
      const node = $("account-item").content.firstElementChild.cloneNode(true);
      node.dataset.email = person.email;
      const shown = {
        ...person, role: ROLES[person.role] || person.role, status: STATUSES[person.status],
        unit: person.unit ? `${facts.units[person.unit] || ""}（${person.unit}）` : "—",
        created_at: moment(person.created_at), withdrawn_at: moment(person.withdrawn_at),
        last_sign_in: person.last_sign_in ? moment(person.last_sign_in) : "从未登录",
      };
      for (const slot of node.querySelectorAll("[data-item]")) slot.textContent = shown[slot.dataset.item];
      node.querySelector(".badge").classList.add(`badge-${person.status}`);
      for (const slot of node.querySelectorAll("[data-withdrawn-only]")) slot.hidden = person.status !== "withdrawn";
      node.querySelector('[data-action="resend"]').hidden = person.status !== "invited";
      node.querySelector('[data-action="withdraw"]').hidden = person.status === "withdrawn";
      const message = node.querySelector(".item-message");
      const withdrawal = node.querySelector("[data-withdraw]");
      node.querySelector('[data-action="resend"]').addEventListener("click", async () => {
        const answer = await call("POST", `/v1/accounts/${person.id}/invitation`);
        message.textContent = answer.ok ? `激活邮件已重新发送至 ${person.email}。` : answer.body.detail_zh;
      });
      node.querySelector('[data-action="withdraw"]').addEventListener("click", () => {
        withdrawal.hidden = false;
        withdrawal.querySelector("input").focus();
      });
      withdrawal.querySelector('[data-action="cancel"]').addEventListener("click", () => {
        withdrawal.hidden = true;
      });
      withdrawal.addEventListener("submit", async (event) => {
        event.preventDefault();
        const reason = withdrawal.querySelector("input").value.trim() || "withdrawn";
        const answer = await call("POST", `/v1/accounts/${person.id}/withdraw`, { reason });
        if (!answer.ok) {
          message.textContent = answer.body.detail_zh || "停用未成功，请稍后再试。";
          return;
        }
        banner(`已停用 ${person.name}（${person.email}）的账号，其登录立即失效。`, "ok");
        await list();
      });
      return node;
    }

    $("filters").addEventListener("change", list);
    submitting(form, async () => {
      const body = values(form);
      if (!admin) body.role = "unit";
      if (body.role !== "unit") delete body.unit;
      requireText(form, body, body.role === "unit" ? ["name", "email", "unit"] : ["name", "email"]);
      if (form.querySelector('[aria-invalid="true"]')) return firstInvalid(form);
      const answer = await call("POST", form.dataset.action, body);
      if (!answer.ok) return showProblem(form, answer);
      form.reset();
      unitShown();
      banner(`已为 ${answer.body.name} 开设账号，激活邮件已发送至 ${answer.body.email}。`, "ok");
      await list();
    });
    list();
  }

  async function start() {
    const account = ((await session.adopt()) || {}).account;
    if (!account) return needSignIn("此页面需要登录后使用。");
    if (!allowed.includes(account.role) || (allowed.includes("unit") && !account.unit)) {
      return needSignIn(`当前登录的账号（${ROLES[account.role] || account.role}）不能使用此页面，请换用有权限的账号登录。`);
    }
    $("who-unit").textContent = account.unit ? `${facts.units[account.unit] || account.unit}` : ROLES[account.role];
    $("who-name").textContent = account.name ? ` · ${account.name}` : "";
    $("who").hidden = false;
    $("content").hidden = false;
    $("sign-out").addEventListener("click", session.signOut);
    ({ summary: summaryPage, materials: materialsPage, cases: casesPage, accounts: accountsPage })[page](account);
  }

  start();
})();
