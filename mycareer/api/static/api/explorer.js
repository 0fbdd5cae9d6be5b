/* The interactive API documentation: Swagger UI, as django-ninja's own
   swagger-ui-init.js starts it, with the schema's address read from the page (the
   site's content security policy allows no inline script). Without JavaScript the
   page keeps its link to the reference, which needs none. */
(function () {
  "use strict";
  const root = document.getElementById("swagger-ui");
  if (!root || typeof window.SwaggerUIBundle !== "function") {
    return;
  }
  root.replaceChildren();
  window.SwaggerUIBundle({
    url: root.dataset.schemaUrl,
    dom_id: "#swagger-ui",
    presets: [window.SwaggerUIBundle.presets.apis, window.SwaggerUIBundle.SwaggerUIStandalonePreset],
    layout: "BaseLayout",
    // No deep links: each would be a link inside the button that opens an operation.
    deepLinking: false,
    // No call to the swagger.io validator (another site) to badge the schema.
    validatorUrl: null,
    // The token typed into "Authorize" is forgotten when the page closes.
    persistAuthorization: false,
  });
})();
