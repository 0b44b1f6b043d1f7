// The supervisor page: plain JS over the same API as everything else (/api/v1), Leaflet for the map.
"use strict";

const CONFIG = window.NOL_CONFIG || { basemapUrl: "", basemapAttribution: "", gcj02: false };
const LABELS = {
  survey: { not_visited: "未走访", visited: "已走访", confirmed: "已核实" },
  priority: { out_of_school: "疑似失学辍学", priority_group: "重点群体", unsurveyed: "未走访户", none: "其他" },
  enrollment: {
    enrolled_unconfirmed: "在读（待核实）", enrolled: "在读", home_teaching: "送教上门", sick_deferral: "因病缓学/休学",
    moved_out: "异地就读", abroad: "出国", deceased: "死亡", suspected_out_of_school: "疑似未入学/辍学",
    never_enrolled: "未入学", dropped_out: "辍学", suspended: "休学（待核实）", transferred_out: "转出（待核实）",
    not_school_age: "非适龄",
  },
};
const PRIORITY_COLOURS = { out_of_school: "#d7191c", priority_group: "#fdae61", unsurveyed: "#2c7bb6", none: "#7a7a7a" };

let token = sessionStorage.getItem("nol.token");
let map, villageLayer, householdLayer, villages = null;

function $(selector) { return document.querySelector(selector); }
function text(value) { return value === null || value === undefined ? "" : String(value); }
function esc(value) {
  return text(value).replace(/[&<>"']/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" }[c]));
}

async function api(path, options = {}) {
  const headers = { ...(options.headers || {}) };
  if (token) headers.Authorization = `Bearer ${token}`;
  if (options.json !== undefined) headers["Content-Type"] = "application/json";
  const response = await fetch(`/api/v1${path}`, {
    method: options.method || "GET", headers,
    body: options.json !== undefined ? JSON.stringify(options.json) : undefined,
  });
  const body = await response.json().catch(() => null);
  if (response.status === 401 && path !== "/auth/login") { logout(); }
  if (!response.ok) { const e = new Error((body && body.message) || response.statusText); e.body = body; e.status = response.status; throw e; }
  return body;
}

// --- GCJ-02: the same published transform as server/maps/routing.py (display only) ------------
function outOfChina(lon, lat) { return !(lon >= 72.004 && lon <= 137.8347 && lat >= 0.8293 && lat <= 55.8271); }
function tLat(x, y) {
  let r = -100 + 2 * x + 3 * y + 0.2 * y * y + 0.1 * x * y + 0.2 * Math.sqrt(Math.abs(x));
  r += (20 * Math.sin(6 * x * Math.PI) + 20 * Math.sin(2 * x * Math.PI)) * 2 / 3;
  r += (20 * Math.sin(y * Math.PI) + 40 * Math.sin(y / 3 * Math.PI)) * 2 / 3;
  r += (160 * Math.sin(y / 12 * Math.PI) + 320 * Math.sin(y * Math.PI / 30)) * 2 / 3;
  return r;
}
function tLon(x, y) {
  let r = 300 + x + 2 * y + 0.1 * x * x + 0.1 * x * y + 0.1 * Math.sqrt(Math.abs(x));
  r += (20 * Math.sin(6 * x * Math.PI) + 20 * Math.sin(2 * x * Math.PI)) * 2 / 3;
  r += (20 * Math.sin(x * Math.PI) + 40 * Math.sin(x / 3 * Math.PI)) * 2 / 3;
  r += (150 * Math.sin(x / 12 * Math.PI) + 300 * Math.sin(x / 30 * Math.PI)) * 2 / 3;
  return r;
}
function toDisplay(lon, lat) {
  if (!CONFIG.gcj02 || outOfChina(lon, lat)) return L.latLng(lat, lon);
  const a = 6378245.0, ee = 0.00669342162296594323;
  let dLat = tLat(lon - 105, lat - 35), dLon = tLon(lon - 105, lat - 35);
  const rad = lat / 180 * Math.PI, magic = 1 - ee * Math.sin(rad) ** 2, sq = Math.sqrt(magic);
  dLat = (dLat * 180) / ((a * (1 - ee)) / (magic * sq) * Math.PI);
  dLon = (dLon * 180) / (a / sq * Math.cos(rad) * Math.PI);
  return L.latLng(lat + dLat, lon + dLon);
}
const coordsToLatLng = (c) => toDisplay(c[0], c[1]);

// --- login ----------------------------------------------------------------------------------
$("#login-form").addEventListener("submit", async (event) => {
  event.preventDefault();
  $("#login-error").textContent = "";
  try {
    const body = await api("/auth/login", { method: "POST", json: { username: $("#username").value, password: $("#password").value } });
    token = body.token;
    sessionStorage.setItem("nol.token", token);
    start();
  } catch (e) {
    $("#login-error").textContent = e.status === 401 ? "用户名或密码错误" : `登录失败：${e.message}`;
  }
});
function logout() { token = null; sessionStorage.removeItem("nol.token"); location.reload(); }
$("#logout").addEventListener("click", logout);

// --- tabs -----------------------------------------------------------------------------------
document.querySelectorAll("header nav button").forEach((button) => button.addEventListener("click", () => {
  document.querySelectorAll("header nav button").forEach((b) => b.classList.toggle("active", b === button));
  document.querySelectorAll("[data-panel]").forEach((p) => { p.hidden = p.dataset.panel !== button.dataset.tab; });
  if (button.dataset.tab === "conflicts") loadConflicts();
  if (button.dataset.tab === "duplicates") loadDuplicates();
  if (button.dataset.tab === "progress") renderProgress();
}));

// --- the map --------------------------------------------------------------------------------
function colour(value) {
  if (value === null || value === undefined) return "#cccccc";
  const stops = $("#choropleth-measure").value === "surveyed_share"
    ? [[0.9, "#1a9641"], [0.6, "#a6d96a"], [0.3, "#fdae61"], [0, "#d7191c"]]
    : [[0.05, "#bd0026"], [0.02, "#f03b20"], [0.005, "#fd8d3c"], [0, "#ffffb2"]];
  for (const [limit, c] of stops) if (value >= limit) return c;
  return stops[stops.length - 1][1];
}

function initMap() {
  map = L.map("map", { zoomControl: true }).setView([32.53, 120.46], 11);
  if (CONFIG.basemapUrl) {
    L.tileLayer(CONFIG.basemapUrl, { attribution: CONFIG.basemapAttribution, maxZoom: 18 }).addTo(map);
  }
  householdLayer = L.layerGroup().addTo(map);
  $("#filter-status").addEventListener("change", loadHouseholds);
  $("#filter-priority").addEventListener("change", loadHouseholds);
  $("#choropleth-measure").addEventListener("change", () => villageLayer && villageLayer.setStyle(villageStyle));
}

function villageStyle(feature) {
  return { color: "#555", weight: 1, fillOpacity: 0.45, fillColor: colour(feature.properties[$("#choropleth-measure").value]) };
}

async function loadVillages() {
  villages = await api("/maps/villages");
  if (villageLayer) villageLayer.remove();
  villageLayer = L.geoJSON(villages, {
    coordsToLatLng, style: villageStyle,
    onEachFeature: (f, layer) => {
      const p = f.properties;
      layer.bindTooltip(`${esc(p.name)}：${p.households} 户，已走访 ${pct(p.surveyed_share)}，失学辍学 ${p.out_of_school} 人，已复学 ${p.returned} 人`);
    },
  }).addTo(map);
  villageLayer.bringToBack();
  const bounds = villageLayer.getBounds();
  if (bounds.isValid()) map.fitBounds(bounds);
}

async function loadHouseholds() {
  const query = new URLSearchParams();
  if ($("#filter-status").value) query.set("status", $("#filter-status").value);
  if ($("#filter-priority").value) query.set("priority", $("#filter-priority").value);
  const body = await api(`/maps/households?${query}`);
  householdLayer.clearLayers();
  for (const feature of body.features) {
    const p = feature.properties, [lon, lat] = feature.geometry.coordinates;
    L.circleMarker(toDisplay(lon, lat), {
      radius: p.priority === "out_of_school" ? 7 : 5, color: "#fff", weight: 1, fillOpacity: 0.9,
      fillColor: PRIORITY_COLOURS[p.priority], className: `household-marker priority-${p.priority}`,
    }).bindTooltip(`${esc(p.head_name)}（${LABELS.priority[p.priority]}）`)
      .on("click", () => openHousehold(p.id)).addTo(householdLayer);
  }
  $("#marker-count").textContent = `显示 ${body.features.length} 户`;
  $("#marker-count").dataset.count = body.features.length;
  $("#marker-count").dataset.query = query.toString();
}

async function openHousehold(id) {
  const h = await api(`/maps/households/${id}`);
  const rows = h.children.map((c) => `<tr class="child"><td>${esc(c.name)}</td><td>${c.gender === "F" ? "女" : "男"}</td>
    <td class="id-number">${esc(c.id_number)}</td><td class="${/out_of_school|never_enrolled|dropped_out/.test(c.enrollment_status) ? "out_of_school" : ""}">${esc(LABELS.enrollment[c.enrollment_status] || c.enrollment_status)}</td>
    <td>${esc(c.school_name)}${c.grade ? ` ${c.grade}年级` : ""}</td></tr>`).join("");
  $("#household").innerHTML = `<div class="card" id="household-card"><h3>${esc(h.head_name)} 户 · ${esc(h.village_name)}</h3>
    <p>${esc(LABELS.survey[h.survey_status])} · ${esc(LABELS.priority[h.priority])}${h.location_approximate ? " · 位置为村中心（近似）" : ""}</p>
    <table><tr><th>姓名</th><th>性别</th><th>身份证号</th><th>状态</th><th>学校</th></tr>${rows || '<tr><td colspan="5">无儿童记录</td></tr>'}</table></div>`;
}

function pct(value) { return value === null || value === undefined ? "—" : `${(value * 100).toFixed(1)}%`; }

function renderProgress() {
  if (!villages) return;
  const rows = villages.features.map((f) => f.properties).map((p) => `<tr><td>${esc(p.name)}</td><td>${p.households}</td>
    <td>${pct(p.surveyed_share)}</td><td>${p.out_of_school}</td><td>${p.returned}</td></tr>`).join("");
  $("#progress-table").innerHTML = `<tr><th>村</th><th>户数</th><th>走访覆盖</th><th>失学辍学</th><th>已复学</th></tr>${rows}`;
}

// --- review queues ------------------------------------------------------------------------------
function show(value) {
  if (value === null || value === undefined || value === "") return "（空）";
  if (typeof value === "object") return JSON.stringify(value);
  return LABELS.enrollment[value] || LABELS.survey[value] || String(value);
}

async function loadConflicts() {
  const list = $("#conflict-list");
  try {
    const page = await api("/conflicts?status=open&page_size=100");
    $("#conflict-count").textContent = page.total ? `(${page.total})` : "";
    list.innerHTML = page.items.length ? "" : "<p>没有待审冲突。</p>";
    for (const c of page.items) {
      const card = document.createElement("div");
      card.className = "card conflict";
      card.dataset.id = c.conflict_id;
      card.innerHTML = `<strong>${esc(c.record_label)}</strong> · 字段 <code>${esc(c.field)}</code>
        <ul>${c.values.map((v) => `<li>${esc(show(v.value))} <small>${esc(v.captured_at)}</small></li>`).join("")}</ul>`;
      for (const v of c.values) {
        const button = document.createElement("button");
        button.textContent = `采用“${show(v.value)}”`;
        button.className = "resolve";
        button.addEventListener("click", async () => {
          await api(`/conflicts/${c.conflict_id}/resolve`, { method: "POST", json: { value: v.value, note: "督导地图审核" } });
          loadConflicts();
        });
        card.appendChild(button);
      }
      list.appendChild(card);
    }
  } catch (e) {
    list.innerHTML = `<p class="error">${e.status === 403 ? "无权限查看冲突" : esc(e.message)}</p>`;
  }
}

async function loadDuplicates() {
  const list = $("#duplicate-list");
  try {
    const page = await api("/duplicates?status=open&page_size=100");
    $("#duplicate-count").textContent = page.total ? `(${page.total})` : "";
    list.innerHTML = page.items.length ? "" : "<p>没有疑似重复。</p>";
    for (const d of page.items) {
      const card = document.createElement("div");
      card.className = "card duplicate";
      const kids = d.children.filter(Boolean);
      card.innerHTML = `<p>${d.reason === "same_id_number" ? "身份证号相同" : "同户同名同生日"}</p>
        <table>${kids.map((c) => `<tr><td>${esc(c.name)}</td><td>${esc(c.birth_date)}</td><td>${esc(c.id_number)}</td><td>${esc(show(c.enrollment_status))}</td></tr>`).join("")}</table>`;
      for (const c of kids) {
        const button = document.createElement("button");
        button.textContent = `合并，保留 ${c.name}（${c.birth_date}）`;
        button.className = "merge";
        button.addEventListener("click", async () => {
          await api(`/duplicates/${d.id}/merge`, { method: "POST", json: { survivor: c.id } });
          loadDuplicates();
        });
        card.appendChild(button);
      }
      list.appendChild(card);
    }
  } catch (e) {
    list.innerHTML = `<p class="error">${e.status === 403 ? "无权限查看疑似重复" : esc(e.message)}</p>`;
  }
}

async function start() {
  $("#login").hidden = true;
  $("#app").hidden = false;
  if (!map) initMap();
  try {
    const me = await api("/me").catch(() => null);
    if (me) $("#who").textContent = me.full_name || me.username || "";
    await loadVillages();
    await loadHouseholds();
    loadConflicts();
    loadDuplicates();
    document.body.dataset.ready = "1";
  } catch (e) {
    $("#marker-count").textContent = `加载失败：${e.message}`;
  }
}

if (token) start();
