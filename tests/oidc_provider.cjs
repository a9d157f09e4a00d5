// The OpenID Connect provider of the login test (tests/test_login_browser.py): oauth2-mock-server
// (installed by the test from the npm registry into a cache folder, never into the repo) on
// 127.0.0.1, with a login page in front of its authorize endpoint that lists the test users, as a
// real provider asks who signs in. The ID token of the chosen user carries their sub, name and
// groups. Usage: NODE_PATH=<folder>/node_modules node oidc_provider.cjs USERS.json [PORT]
// USERS.json: {"<login>": {"sub": "...", "name": "...", "groups": ["..."]}, ...}.
// Prints "ISSUER <url>" once it listens; ends on SIGTERM.
'use strict';
const fs = require('node:fs');
const http = require('node:http');
const { OAuth2Server } = require('oauth2-mock-server');

const users = JSON.parse(fs.readFileSync(process.argv[2], 'utf8'));
const loginOf = new Map(); // authorization code -> the login chosen on the login page

function escapeHtml(value) {
  return String(value).replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

// The login page: every parameter of the authorize request is passed on unchanged, plus `login`.
function loginPage(url) {
  const hidden = [...url.searchParams]
    .filter(([name]) => name !== 'login')
    .map(([name, value]) => `<input type="hidden" name="${escapeHtml(name)}" value="${escapeHtml(value)}">`)
    .join('\n');
  const buttons = Object.entries(users)
    .map(([login, user]) => `<button type="submit" name="login" value="${escapeHtml(login)}" id="login-${escapeHtml(login)}">${escapeHtml(user.name)}</button>`)
    .join('\n');
  return `<!doctype html><html lang="nl"><head><meta charset="utf-8"><title>Test-identiteitsprovider</title></head>
<body><h1>Test-identiteitsprovider</h1><p>Kies wie inlogt.</p>
<form method="get" action="/authorize">${hidden}
${buttons}</form></body></html>`;
}

async function main() {
  const provider = new OAuth2Server();
  await provider.issuer.keys.generate('RS256');
  const service = provider.service;
  service.on('beforeAuthorizeRedirect', (redirect, req) => {
    const code = redirect.url.searchParams.get('code');
    if (code) loginOf.set(code, req.query.login);
  });
  // Called for the access token and the ID token of a code exchange; both name the chosen user.
  service.on('beforeTokenSigning', (token, req) => {
    const login = loginOf.get(req.body && req.body.code);
    if (!Object.hasOwn(users, login)) return;
    const { sub, name, groups } = users[login];
    Object.assign(token.payload, { sub, name, groups });
  });

  const server = http.createServer((req, res) => {
    const url = new URL(req.url, 'http://127.0.0.1');
    if (req.method === 'GET' && url.pathname === '/authorize' && !Object.hasOwn(users, url.searchParams.get('login'))) {
      res.writeHead(200, { 'Content-Type': 'text/html; charset=utf-8', 'Cache-Control': 'no-store' });
      res.end(loginPage(url));
      return;
    }
    service.requestHandler(req, res);
  });
  server.listen(Number(process.argv[3] || 0), '127.0.0.1', () => {
    provider.issuer.url = `http://127.0.0.1:${server.address().port}`;
    console.log(`ISSUER ${provider.issuer.url}`);
  });
  for (const signal of ['SIGTERM', 'SIGINT']) {
    process.on(signal, () => process.exit(0));
  }
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
