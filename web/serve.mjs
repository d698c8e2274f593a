// Serves the demo clinic page with the widget (`make run` starts it on :8080; the browser
// test starts it on a free port). Node's own http module: nothing to install.
//   PORT (8080), HOST (127.0.0.1), RASA_URL (http://localhost:5005): the Rasa server the
//   page's widget talks to.
import { readFile } from "node:fs/promises";
import { createServer } from "node:http";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const here = dirname(fileURLToPath(import.meta.url));
const port = Number(process.env.PORT || 8080);
const host = process.env.HOST || "127.0.0.1";
const rasaUrl = process.env.RASA_URL || "http://localhost:5005";

if (!/^https?:\/\/[^\s"'<>]+$/.test(rasaUrl)) {
  console.error(`RASA_URL must be an http(s) URL, got ${JSON.stringify(rasaUrl)}`);
  process.exit(2);
}

const FILES = {
  "/": { path: join(here, "demo", "index.html"), type: "text/html; charset=utf-8", page: true },
  "/index.html": { path: join(here, "demo", "index.html"), type: "text/html; charset=utf-8", page: true },
  "/widget.js": { path: join(here, "dist", "widget.js"), type: "text/javascript; charset=utf-8" },
  "/widget.js.map": { path: join(here, "dist", "widget.js.map"), type: "application/json" },
};

const server = createServer(async (req, res) => {
  const url = new URL(req.url, "http://localhost");
  const file = FILES[url.pathname];
  if (url.pathname === "/health") {
    res.writeHead(200, { "Content-Type": "text/plain" }).end("ok");
    return;
  }
  if (!file || (req.method !== "GET" && req.method !== "HEAD")) {
    res.writeHead(404, { "Content-Type": "text/plain" }).end("Not found");
    return;
  }
  try {
    let body = await readFile(file.path);
    if (file.page) body = body.toString("utf8").replaceAll("{{RASA_URL}}", rasaUrl);
    res.writeHead(200, {
      "Content-Type": file.type,
      "Cache-Control": "no-cache",
      "X-Content-Type-Options": "nosniff",
    });
    res.end(req.method === "HEAD" ? undefined : body);
  } catch {
    res.writeHead(500, { "Content-Type": "text/plain" }).end(`Missing ${url.pathname}: run \`make widget\``);
  }
});

server.listen(port, host, () => {
  console.log(`Demo clinic page on http://${host === "127.0.0.1" ? "localhost" : host}:${port}/ (widget -> ${rasaUrl})`);
});
for (const signal of ["SIGINT", "SIGTERM"]) {
  process.on(signal, () => process.exit(0));
}
