// The one way the workbench talks to the server: the JSON API under /api/v1, with the person's
// token. Everything the API refuses comes back as an ApiError with the stable code, a Chinese
// message and the per-field errors, so every view can show it the same way.
import { session, forget } from "./session.js";
import { describeError } from "./messages.js";

export class ApiError extends Error {
  constructor(status, code, message, fields) {
    super(message);
    this.status = status;
    this.code = code;
    this.fields = fields || [];
  }
  // the field errors by field name, for a form to put beside its inputs
  fieldMap() {
    const map = {};
    for (const f of this.fields) map[f.field] = f.message;
    return map;
  }
}

let onLoggedOut = () => {};
export function whenLoggedOut(callback) { onLoggedOut = callback; }

function query(params) {
  if (!params) return "";
  const search = new URLSearchParams();
  for (const [key, value] of Object.entries(params)) {
    if (value === undefined || value === null || value === "") continue;
    if (Array.isArray(value)) value.forEach((v) => search.append(key, v));
    else search.append(key, value);
  }
  const text = search.toString();
  return text ? `?${text}` : "";
}

export async function request(method, path, { params, body, form, raw } = {}) {
  const headers = {};
  if (session.token) headers.Authorization = `Bearer ${session.token}`;
  let payload;
  if (form) payload = form; // FormData: the browser sets the multipart boundary
  else if (body !== undefined) {
    headers["Content-Type"] = "application/json";
    payload = JSON.stringify(body);
  }
  let response;
  try {
    response = await fetch(`/api/v1${path}${query(params)}`, { method, headers, body: payload });
  } catch (_) {
    throw new ApiError(0, "network", describeError("network"));
  }
  if (response.status === 401 && session.token && !path.startsWith("/auth/")) {
    forget();
    onLoggedOut();
  }
  if (!response.ok) {
    let data = {};
    try { data = await response.json(); } catch (_) { /* not JSON: keep the status */ }
    const code = data.code || `http.${response.status}`;
    throw new ApiError(response.status, code, describeError(code, data.message), data.errors);
  }
  if (raw) return response;
  if (response.status === 204) return null;
  const type = response.headers.get("Content-Type") || "";
  return type.includes("json") ? response.json() : response.text();
}

export const get = (path, params) => request("GET", path, { params });
export const post = (path, body) => request("POST", path, { body });
export const put = (path, body) => request("PUT", path, { body });
export const patch = (path, body) => request("PATCH", path, { body });
export const upload = (path, form) => request("POST", path, { form });
export const del = (path) => request("DELETE", path);

// A file the API answers (a PDF, an XLSX): fetched with the token, then handed to the browser
// as a download or opened in a new tab for printing.
export async function fetchFile(path, params) {
  const response = await request("GET", path, { params, raw: true });
  const blob = await response.blob();
  const disposition = response.headers.get("Content-Disposition") || "";
  const match = /filename\*=UTF-8''([^;]+)|filename="?([^";]+)"?/i.exec(disposition);
  const filename = match ? decodeURIComponent(match[1] || match[2]) : path.split("/").pop();
  return { blob, filename, type: blob.type };
}

export async function download(path, params) {
  const { blob, filename } = await fetchFile(path, params);
  const url = URL.createObjectURL(blob);
  const link = document.createElement("a");
  link.href = url;
  link.download = filename;
  document.body.appendChild(link);
  link.click();
  link.remove();
  setTimeout(() => URL.revokeObjectURL(url), 60000);
  return filename;
}

export async function openForPrint(path, params) {
  const { blob } = await fetchFile(path, params);
  const url = URL.createObjectURL(blob);
  window.open(url, "_blank");
  setTimeout(() => URL.revokeObjectURL(url), 300000);
}

// A multipart upload that reports its progress (fetch cannot): onProgress(fraction 0..1) as the
// bytes leave the browser; resolves with the JSON answer, rejects with an ApiError like request().
export function uploadWithProgress(path, form, onProgress = () => {}) {
  return new Promise((resolve, reject) => {
    const xhr = new XMLHttpRequest();
    xhr.open("POST", `/api/v1${path}`);
    if (session.token) xhr.setRequestHeader("Authorization", `Bearer ${session.token}`);
    xhr.upload.onprogress = (event) => { if (event.lengthComputable) onProgress(event.loaded / event.total); };
    xhr.upload.onload = () => onProgress(1);
    xhr.onerror = () => reject(new ApiError(0, "network", describeError("network")));
    xhr.onload = () => {
      let data = null;
      try { data = xhr.responseText ? JSON.parse(xhr.responseText) : null; } catch (_) { /* not JSON */ }
      if (xhr.status >= 200 && xhr.status < 300) { resolve(data); return; }
      if (xhr.status === 401 && session.token) { forget(); onLoggedOut(); }
      const code = (data && data.code) || `http.${xhr.status}`;
      reject(new ApiError(xhr.status, code, describeError(code, data && data.message), data && data.errors));
    };
    xhr.send(form);
  });
}
