"use strict";
const api = (path, opts = {}) => fetch("/api/v1" + path, {...opts, headers: {"Content-Type": "application/json",
  Authorization: "Bearer " + sessionStorage.getItem("nol-token"), ...(opts.headers || {})}})
  .then(r => r.ok ? r.json() : r.json().then(e => Promise.reject(e)));
const pct = v => v === null || v === undefined ? "—" : (v * 100).toFixed(2) + "%";
const esc = s => String(s ?? "").replace(/[&<>"]/g, c => ({"&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;"}[c]));
const RATES = [["enrollment_rate", "入学率"], ["retention_rate", "巩固率"], ["disabled_enrollment_rate", "残疾儿童少年入学率"]];

function bar(value, target, meets) {
  if (value === null) return "—";
  return `<div class="bar ${meets ? "" : "miss"}" title="${pct(value)}" data-value="${Math.min(value, 1) * 100}"` +
    ` data-target="${target * 100}"><span></span><i></i></div>${pct(value)}`;
}

async function loadRates() {
  const r = await api("/reports/rates?by=" + document.getElementById("by").value);
  const c = r.cases;
  document.getElementById("cards").innerHTML = [["未结个案", c.open], ["逾期", c.overdue], ["已复学", c.returned],
    ["依规免于入学", c.exempted], ["适龄儿童", r.total.school_age], ["在读", r.total.enrolled]]
    .map(([k, v]) => `<div class="card">${k}<b>${v}</b></div>`).join("");
  const head = "<tr><th>名称</th><th>适龄</th><th>在读</th><th>依规未入学</th><th>未入学/辍学</th><th>已复学</th>" +
    RATES.map(([, label]) => `<th>${label}</th>`).join("") + "</tr>";
  const rows = [...r.rows, r.total].map(x => `<tr><td>${esc(x.name)}</td><td>${x.school_age}</td><td>${x.enrolled}</td>` +
    `<td>${x.legitimately_absent}</td><td>${x.out_of_school}</td><td>${x.returned}</td>` +
    RATES.map(([k]) => `<td>${bar(x[k], r.targets[k], x.meets_targets[k])}</td>`).join("") + "</tr>");
  document.getElementById("rates").innerHTML = head + rows.join("");
  // Through the DOM, not style attributes: the Content-Security-Policy allows no inline style.
  for (const el of document.querySelectorAll("#rates .bar")) {
    el.querySelector("span").style.width = el.dataset.value + "%";
    el.querySelector("i").style.left = el.dataset.target + "%";
  }
}

async function loadCases() {
  const overdue = document.getElementById("only-overdue").checked ? "&overdue=true" : "";
  const r = await api("/cases?page_size=200" + overdue);
  document.getElementById("cases").innerHTML = "<tr><th>儿童</th><th>村（社区）</th><th>区镇</th><th>状态</th><th>期限</th></tr>" +
    r.items.map(c => `<tr><td>${esc(c.child_name)}</td><td>${esc(c.village_name)}</td><td>${esc(c.town_name)}</td>` +
      `<td>${esc(c.status_label)}</td><td>${c.due_on || "—"} ${c.overdue ? '<span class="overdue">逾期</span>' : ""}</td></tr>`)
      .join("") + `<tr><td colspan="5">共 ${r.total} 件</td></tr>`;
}

function start() {
  document.getElementById("login").classList.add("hidden");
  document.getElementById("app").classList.remove("hidden");
  document.getElementById("who").textContent = sessionStorage.getItem("nol-user") || "";
  loadRates(); loadCases();
}

document.getElementById("by").onchange = loadRates;
document.getElementById("only-overdue").onchange = loadCases;
document.getElementById("login").onsubmit = async ev => {
  ev.preventDefault();
  const form = new FormData(ev.target);
  const r = await fetch("/api/v1/auth/login", {method: "POST", headers: {"Content-Type": "application/json"},
    body: JSON.stringify({username: form.get("username"), password: form.get("password")})});
  const body = await r.json();
  if (!r.ok) { document.getElementById("login-error").textContent = body.message; return; }
  sessionStorage.setItem("nol-token", body.token);
  sessionStorage.setItem("nol-user", form.get("username"));
  start();
};
if (sessionStorage.getItem("nol-token")) start();
