// Swagger UI on aipaint's own OpenAPI document. A file, not an inline script: the page's policy
// lets only scripts from this origin run.
window.ui = SwaggerUIBundle({
  url: "/openapi.json",
  dom_id: "#swagger-ui",
  deepLinking: true,
});
