"use strict";
// Start Swagger UI with the settings the page carries (served as a file: no inline script).
window.addEventListener("load", () => {
  const container = document.getElementById("swagger-ui-container");
  const config = Object.assign({url: container.dataset.specUrl, dom_id: "#swagger-ui-container"},
                               JSON.parse(container.dataset.config || "{}"));
  window.ui = SwaggerUIBundle(config);
});
