// The staff dashboard: fetches the national summary (JSON) with the staff token and draws it.
// The page itself is static and holds no data; the token lives only in this tab's sessionStorage
// (typed once, or handed over in the address's #token= fragment, which never reaches a server),
// and every fetch sends it as a Bearer header. Refreshes on a timer, without reloading the page.
// The link to intake's account administration (another origin, another sessionStorage) hands the
// token over the same way, in the fragment, so that a signed-in staff member need not sign in
// again there; intake's page drops it from its address bar at once.
"use strict";
(() => {
  const TOKEN_KEY = "smonth.reports.token";
  const SVG = "http://www.w3.org/2000/svg";
  const params = new URLSearchParams(location.search);
  const campaign = params.get("campaign");
  const refreshSeconds = Math.max(2, Number(params.get("refresh")) || 30);
  const $ = (id) => document.getElementById(id);
  let timer = null;

  function el(tag, attrs = {}, ...children) {
    const node = tag.startsWith("svg:")
      ? document.createElementNS(SVG, tag.slice(4))
      : document.createElement(tag);
    for (const [name, value] of Object.entries(attrs)) node.setAttribute(name, String(value));
    node.append(...children.map((c) => (c instanceof Node ? c : document.createTextNode(String(c)))));
    return node;
  }
  const exact = (n) => n.toLocaleString("zh-CN");
  const shortLabel = (label) => label.split("（")[0];

  function takeTokenFromFragment() {
    const match = location.hash.match(/(?:^#|&)token=([^&]+)/);
    if (match) {
      sessionStorage.setItem(TOKEN_KEY, decodeURIComponent(match[1]));
      history.replaceState(null, "", location.pathname + location.search);
    }
  }

  function showLogin(message) {
    clearInterval(timer);
    timer = null;
    $("board").hidden = true;
    $("sign-out").hidden = true;
    $("login").hidden = false;
    $("login-error").textContent = message || "";
    setState("未登录");
  }

  function setState(text, failed = false) {
    $("refresh-state").textContent = text;
    $("refresh-state").classList.toggle("error", failed);
  }

  async function load() {
    const token = sessionStorage.getItem(TOKEN_KEY);
    if (!token) return showLogin("");
    const query = new URLSearchParams({ format: "json" });
    if (campaign) query.set("campaign", campaign);
    let response;
    try {
      response = await fetch(`/v1/national-summary?${query}`, {
        headers: { Authorization: `Bearer ${token}`, Accept: "application/json" },
        cache: "no-store",
      });
    } catch (error) {
      return setState("连接中断，稍后自动重试", true);
    }
    if (response.status === 401 || response.status === 403) {
      sessionStorage.removeItem(TOKEN_KEY);
      const problem = await response.json().catch(() => ({}));
      return showLogin(problem.detail_zh || "凭证无效或已过期，请重新输入。");
    }
    if (!response.ok) return setState(`刷新失败（${response.status}），稍后自动重试`, true);
    draw(await response.json());
    $("login").hidden = true;
    $("board").hidden = false;
    $("sign-out").hidden = false;
    const now = new Date().toLocaleTimeString("zh-CN", { hour12: false });
    setState(`${now} 已更新，每${refreshSeconds}秒自动刷新`);
    if (!timer) timer = setInterval(load, refreshSeconds * 1000);
  }

  function draw(s) {
    document.title = `${s.title}活动实时汇总`;
    $("title").textContent = `${s.title}活动实时汇总`;
    $("theme").textContent = `第${s.edition}个全国“安全生产月” · 主题：${s.theme}`;
    $("as-of").textContent = s.as_of.slice(0, 16).replace("T", " ");
    $("as-of").dataset.value = s.as_of;
    drawTotals(s);
    drawCompleteness(s);
    drawTipsByIndustry(s);
    drawExposure(s);
    drawTipsByDay(s);
    $("communique").replaceChildren(
      ...s.communique.split("\n").map((text, n) => el("p", n === 0 ? { class: "title" } : {}, text))
    );
  }

  function drawTotals(s) {
    $("totals").replaceChildren(
      ...s.indicators.map((i) =>
        el("div", { class: "tile", title: i.label },
          el("div", { class: "label" }, i.label),
          el("div", { class: "value", "data-testid": `total-${i.code}`, "data-value": s.totals[i.code] },
            s.totals_text[i.code]),
          el("div", { class: "exact" }, `${exact(s.totals[i.code])} ${i.unit}`))
      )
    );
  }

  // Horizontal bars: rows of [label, parts, test id, caption], a part being [length, colour,
  // name, the figure it stands for (the length by default)]; lengths are scaled to `max`.
  function bars(rows, max, { labelWidth = 120, legend = [] } = {}) {
    const width = 680, rowHeight = 26, top = legend.length ? 24 : 4;
    const height = top + rows.length * rowHeight + 4;
    const chart = el("svg:svg", { viewBox: `0 0 ${width} ${height}`, role: "img" });
    legend.forEach(([text, colour], n) => {
      chart.append(el("svg:rect", { x: labelWidth + n * 110, y: 4, width: 12, height: 12, fill: colour }),
        el("svg:text", { x: labelWidth + n * 110 + 16, y: 15 }, text));
    });
    const span = width - labelWidth - 170;
    rows.forEach(([label, parts, testid, caption], n) => {
      const y = top + n * rowHeight;
      chart.append(el("svg:text", { x: labelWidth - 6, y: y + 16, "text-anchor": "end" }, label));
      let x = labelWidth;
      for (const [value, colour, name, shown = value] of parts) {
        const w = max ? (span * value) / max : 0;
        chart.append(el("svg:rect", { x, y: y + 3, width: Math.max(0, w), height: rowHeight - 8, fill: colour },
          el("svg:title", {}, `${label} ${name || ""} ${exact(shown)}`)));
        x += w;
      }
      chart.append(el("svg:text", { x: x + 6, y: y + 16, "data-testid": testid }, caption));
    });
    return chart;
  }

  function drawCompleteness(s) {
    const groups = [...Object.entries(s.units.by_kind).map(([kind, c]) => [s.labels.kinds[kind], c, kind]),
      ["全国", s.units, "all"]];
    const rows = [];
    for (const [label, c, key] of groups) {
      rows.push([`${label}·进展统计`, [[c.reported, "#1f77b4", "已报送"]], `units-${key}-reported`, `${c.reported}/${c.expected}`]);
      rows.push([`${label}·联络员`, [[c.liaisons, "#17becf", "已明确"]], `units-${key}-liaisons`, `${c.liaisons}/${c.expected}`]);
      rows.push([`${label}·总结报告`, [[c.summary_on_time, "#2e9d5b", "按时"], [c.summary_late, "#ff9f1c", "逾期"],
        [c.summary_missing, "#d0d5db", "未报送"]], `units-${key}-summary`,
        `按时${c.summary_on_time}·逾期${c.summary_late}·未报${c.summary_missing}`]);
    }
    const max = Math.max(...groups.map(([, c]) => c.expected));
    // Each group on the scale of its own expected count: completeness reads as a share.
    const scaled = rows.map(([label, parts, testid, caption], n) => {
      const expected = groups[Math.floor(n / 3)][1].expected || 1;
      return [label, parts.map(([v, colour, name]) => [(v * max) / expected, colour, name, v]), testid, caption];
    });
    $("completeness").replaceChildren(bars(scaled, max, { labelWidth: 190,
      legend: [["按时", "#2e9d5b"], ["逾期", "#ff9f1c"], ["未报送", "#d0d5db"]] }));
  }

  function drawTipsByIndustry(s) {
    const t = s.tips;
    $("tips-summary").replaceChildren(
      "受理 ", el("strong", { "data-testid": "tips-received", "data-value": t.received }, exact(t.received)),
      " 条次，属实 ", el("strong", { "data-testid": "tips-verified", "data-value": t.verified }, exact(t.verified)),
      "，不属实 ", el("strong", { "data-testid": "tips-unfounded", "data-value": t.unfounded }, exact(t.unfounded)),
      "，待核查 ", el("strong", {}, exact(t.pending)));
    const entries = Object.entries(t.by_industry);
    const max = Math.max(1, ...entries.map(([, n]) => n));
    $("tips-industry").replaceChildren(bars(
      entries.map(([code, n]) => [s.labels.industries[code], [[n, "#1f5fa8", ""]], `tips-industry-${code}`, exact(n)]),
      max, { labelWidth: 90 }));
  }

  function drawExposure(s) {
    const e = s.exposure;
    const months = Object.keys(e.provinces_met);
    const head = el("tr", {}, el("th", { class: "name" }, "省份"),
      ...months.map((m) => el("th", {}, `${Number(m.slice(5))}月`)), el("th", {}, "累计"));
    const body = Object.entries(e.matrix).map(([code, cells]) =>
      el("tr", {}, el("th", { class: "name" }, s.labels.provinces[code]),
        ...months.map((m) => el("td", {
          class: cells[m].status, "data-testid": `exposure-${code}-${m}`, "data-status": cells[m].status,
          title: `${s.labels.provinces[code]} ${m}：${cells[m].cases}个`,
        }, cells[m].status === "pending" ? "" : cells[m].cases)),
        el("td", {}, months.reduce((sum, m) => sum + cells[m].cases, 0))));
    const foot = el("tr", {}, el("td", {}, "达标省份数"),
      ...months.map((m) => el("td", { "data-testid": `provinces-met-${m}` }, e.provinces_met[m])),
      el("td", { "data-testid": "cases-total" }, e.cases_total));
    $("exposure").replaceChildren(el("table", {}, el("thead", {}, head), el("tbody", {}, ...body),
      el("tfoot", {}, foot)));
  }

  function drawTipsByDay(s) {
    const days = Object.entries(s.tips.by_day);
    const width = 1100, height = 220, left = 50, bottom = 30;
    const chart = el("svg:svg", { viewBox: `0 0 ${width} ${height}`, role: "img",
      "data-testid": "tips-by-day", "data-days": days.length });
    if (!days.length) {
      chart.append(el("svg:text", { x: width / 2, y: height / 2, "text-anchor": "middle" }, "尚无举报"));
      return $("tips-day").replaceChildren(chart);
    }
    const max = Math.max(...days.map(([, n]) => n));
    const step = (width - left - 10) / days.length;
    const scale = (height - bottom - 20) / max;
    chart.append(el("svg:line", { class: "axis", x1: left, y1: height - bottom, x2: width, y2: height - bottom }),
      el("svg:text", { x: left - 6, y: 20, "text-anchor": "end" }, exact(max)),
      el("svg:text", { x: left - 6, y: height - bottom, "text-anchor": "end" }, "0"));
    const labelEvery = Math.ceil(days.length / 12);
    days.forEach(([day, n], i) => {
      const x = left + i * step;
      chart.append(el("svg:rect", { x: x + step * 0.1, y: height - bottom - n * scale, width: step * 0.8,
        height: n * scale, fill: day.endsWith("-06-16") ? "#d62728" : "#1f5fa8" },
        el("svg:title", {}, `${day}：${exact(n)}条次`)));
      if (i % labelEvery === 0) {
        chart.append(el("svg:text", { x: x + step / 2, y: height - 10, "text-anchor": "middle" }, day.slice(5)));
      }
    });
    $("tips-day").replaceChildren(chart);
  }

  $("login-form").addEventListener("submit", (event) => {
    event.preventDefault();
    const token = $("token").value.trim();
    if (!token) return;
    sessionStorage.setItem(TOKEN_KEY, token);
    $("token").value = "";
    load();
  });
  // Only on a plain click, at the moment of leaving: the token is never left in the link's
  // address (where "copy link", a new tab or the status bar would show it).
  $("accounts-link").addEventListener("click", (event) => {
    const token = sessionStorage.getItem(TOKEN_KEY);
    if (!token || event.button !== 0 || event.ctrlKey || event.metaKey || event.shiftKey || event.altKey) return;
    event.preventDefault();
    location.assign(`${event.currentTarget.href.split("#")[0]}#access_token=${encodeURIComponent(token)}`);
  });
  $("sign-out").addEventListener("click", () => {
    sessionStorage.removeItem(TOKEN_KEY);
    showLogin("已退出。");
  });
  takeTokenFromFragment();
  load();
})();
