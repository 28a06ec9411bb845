// Starts Swagger UI on /docs (a file, not an inline script: the page's CSP allows only our own scripts).
window.addEventListener("load", () => {
  window.ui = SwaggerUIBundle({
    url: "/openapi.json",
    dom_id: "#swagger-ui",
    deepLinking: true,
    presets: [SwaggerUIBundle.presets.apis],
    layout: "BaseLayout",
    validatorUrl: null, // the default badge would call validator.swagger.io
  });
});
