// Renders Gatehouse's OpenAPI document into /docs. A file of its own, not an inline script, so
// that the page's Content-Security-Policy refuses every inline script.
"use strict";
window.ui = SwaggerUIBundle({
  // Beside the page (/docs -> /openapi.json), so it resolves behind a path prefix too.
  url: new URL("openapi.json", document.baseURI).href,
  dom_id: "#swagger-ui",
  deepLinking: true,
  // Never send the document to validator.swagger.io (the default): the page stays offline.
  validatorUrl: null,
  presets: [SwaggerUIBundle.presets.apis],
  layout: "BaseLayout",
});
