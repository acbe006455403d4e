// The interactive API page: reads /api/openapi.json and lets a developer try each operation.
// Built with DOM methods only (no innerHTML): texts from definitions are never parsed as HTML.
"use strict";

(function () {
  function el(tag, attrs, children) {
    var node = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (name) {
      if (name === "text") { node.textContent = attrs[name]; } else { node.setAttribute(name, attrs[name]); }
    });
    (children || []).forEach(function (child) {
      node.appendChild(typeof child === "string" ? document.createTextNode(child) : child);
    });
    return node;
  }

  function resolve(spec, schema) {
    var seen = 0;
    while (schema && schema.$ref && seen < 10) {
      var parts = schema.$ref.replace(/^#\//, "").split("/");
      schema = parts.reduce(function (acc, key) { return acc && acc[key]; }, spec);
      seen += 1;
    }
    return schema || {};
  }

  function pretty(value) { return JSON.stringify(value, null, 2); }

  function fieldFor(name, schema, required, example) {
    var input = el("input", { name: name, "data-type": schema.type || "string" });
    if (example !== undefined) { input.value = String(example); }
    if (schema.pattern) { input.setAttribute("pattern", schema.pattern); }
    if (schema.format === "date") { input.setAttribute("placeholder", "YYYY-MM-DD"); }
    var label = el("label", {}, [name + (required ? " *" : "") + (schema.description ? " — " + schema.description : ""), input]);
    return { label: label, input: input };
  }

  function tryIt(op, path, inputs, output) {
    var params = {};
    inputs.forEach(function (f) {
      if (f.input.value === "") { return; }
      params[f.input.name] = f.input.getAttribute("data-type") === "integer" ? Number(f.input.value) : f.input.value;
    });
    var headers = { "Content-Type": "application/json", "Accept": "application/json" };
    var token = document.getElementById("token").value.trim();
    var purpose = document.getElementById("purpose").value.trim();
    var official = document.getElementById("official").value.trim();
    if (token) { headers.Authorization = "Bearer " + token; }
    if (purpose) { headers["X-Purpose"] = purpose; }
    if (official) { headers["X-Official-Id"] = official; }
    output.textContent = "…";
    var started = performance.now();
    fetch(path, { method: "POST", headers: headers, body: JSON.stringify({ params: params }), credentials: "omit" })
      .then(function (response) {
        return response.text().then(function (text) {
          var ms = Math.round(performance.now() - started);
          var body;
          try { body = pretty(JSON.parse(text)); } catch (e) { body = text; }
          output.className = response.ok ? "status-ok" : "status-error";
          output.textContent = "HTTP " + response.status + " (" + ms + " ms)" +
            (response.headers.get("Retry-After") ? "  Retry-After: " + response.headers.get("Retry-After") : "") +
            "\n" + body;
        });
      })
      .catch(function (err) { output.className = "status-error"; output.textContent = String(err); });
  }

  function scopesOf(op) {
    return (op.security || []).map(function (s) {
      var names = Object.keys(s);
      return names.length ? s[names[0]].join(" ") : "";
    }).filter(Boolean);
  }

  // Any operation other than a dataset query: method, path, summary, scope; public GETs
  // without path parameters get a "Try it" button.
  function renderPlain(method, path, op) {
    var out = el("pre", {});
    var box = el("div", { "class": "operation", id: op.operationId || "" }, [
      el("span", { "class": "method " + method, text: method.toUpperCase() }),
      el("span", { "class": "path", text: path }),
      el("span", { "class": "scope", text: scopesOf(op).join(" ") }),
      el("p", { text: op.summary || "" })
    ]);
    var isPublic = !op.security || op.security.length === 0;
    if (method === "get" && isPublic && path.indexOf("{") < 0) {
      var btn = el("button", { type: "button", text: "Try it" });
      btn.addEventListener("click", function () {
        fetch(path, { headers: { Accept: "application/json" } })
          .then(function (r) { return r.json(); })
          .then(function (j) { out.textContent = pretty(j); })
          .catch(function (err) { out.textContent = String(err); });
      });
      box.appendChild(btn);
      box.appendChild(out);
    }
    return box;
  }

  function isQuery(op) {
    var body = op.requestBody && op.requestBody.content && op.requestBody.content["application/json"];
    return (op.tags || []).indexOf("datasets") >= 0 && body && body.schema;
  }

  function renderQuery(spec, path, op) {
    var request = resolve(spec, op.requestBody.content["application/json"].schema);
    var params = resolve(spec, request.properties.params);
    var example = (op.requestBody.content["application/json"].example || {}).params || {};
    var required = params.required || [];
    var inputs = Object.keys(params.properties || {}).map(function (name) {
      return fieldFor(name, params.properties[name], required.indexOf(name) >= 0, example[name]);
    });
    var scopes = scopesOf(op);
    var answer = resolve(spec, op.responses["200"].content["application/json"].schema);
    var data = resolve(spec, (answer.properties.data.anyOf || [])[0]);
    var fieldList = el("ul", {}, Object.keys(data.properties || {}).map(function (name) {
      var f = data.properties[name];
      var item = el("li", {}, [el("code", { text: name }), " " + (f.description || "")]);
      if (f["x-personal"]) { item.appendChild(el("span", { "class": "flag", text: "personal" })); }
      if (f["x-sensitive"]) { item.appendChild(el("span", { "class": "flag sensitive", text: "sensitive" })); }
      return item;
    }));
    var output = el("pre", { "aria-live": "polite" });
    var button = el("button", { type: "button", text: "Try it" });
    var form = el("form", {}, inputs.map(function (f) { return f.label; }).concat([button]));
    form.addEventListener("submit", function (e) { e.preventDefault(); tryIt(op, path, inputs, output); });
    button.addEventListener("click", function (e) { e.preventDefault(); tryIt(op, path, inputs, output); });
    return el("div", { "class": "operation", id: op.operationId }, [
      el("span", { "class": "method post", text: "POST" }), el("span", { "class": "path", text: path }),
      el("span", { "class": "scope", text: scopes.join(" ") }),
      el("h3", { text: op.summary || "" }),
      el("p", { text: op.description || "" }),
      el("details", {}, [el("summary", { text: "Output fields" }), fieldList]),
      el("details", {}, [el("summary", { text: "Example answer" }),
        el("pre", { text: pretty(op.responses["200"].content["application/json"].example) })]),
      form, output
    ]);
  }

  function render(spec) {
    document.getElementById("api-summary").textContent = spec.info.title + " " + spec.info.version + " — " + spec.info.summary;
    var flows = ((spec.components.securitySchemes || {}).oauth2 || {}).flows || {};
    if (flows.clientCredentials) { document.getElementById("token-url").textContent = flows.clientCredentials.tokenUrl; }
    var main = document.getElementById("operations");
    var sections = {};
    var tagNames = {};
    (spec.tags || []).forEach(function (t) { tagNames[t.name] = t.description || t.name; });
    function sectionFor(op) {
      var tag = (op.tags || ["other"])[0];
      if (!sections[tag]) {
        sections[tag] = el("section", { "class": "tag" }, [el("h2", { text: tagNames[tag] || tag })]);
        main.appendChild(sections[tag]);
      }
      return sections[tag];
    }
    Object.keys(spec.paths).forEach(function (path) {
      var item = spec.paths[path];
      ["get", "post", "put", "delete"].forEach(function (method) {
        var op = item[method];
        if (!op) { return; }
        var box = method === "post" && isQuery(op) ? renderQuery(spec, path, op) : renderPlain(method, path, op);
        sectionFor(op).appendChild(box);
      });
    });
  }

  document.addEventListener("DOMContentLoaded", function () {
    fetch("/api/openapi.json", { headers: { Accept: "application/json" } })
      .then(function (r) { return r.json(); })
      .then(render)
      .catch(function (err) { document.getElementById("api-summary").textContent = "Cannot load the API description: " + err; });
  });
})();
