// A real OpenID Connect provider (the oidc-provider package) for the tests and the demo,
// listening on loopback only. Its users are read from USERS_FILE at every sign-in, so a test
// can change a person's roles at the provider and see the change at the next sign-in.
//
//   PORT=9400 USERS_FILE=users.json CLIENTS_FILE=clients.json node server.mjs
//
// USERS_FILE: {"anna": {"password": "...", "strong": true, "claims": {"hsa_id": ..., ...}}}
// CLIENTS_FILE: [{"client_id": ..., "client_secret": ..., "redirect_uris": [...], ...}]
// The sign-in page asks for the login and password and whether a SITHS card was used: with
// it, the ID token says acr "http://id.elegnamnden.se/loa/1.0/loa3" and amr ["smartcard"].
import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as http from 'node:http';

import Provider from 'oidc-provider';

const port = Number(process.env.PORT || 9400);
const issuer = process.env.ISSUER || `http://127.0.0.1:${port}`;
const usersFile = process.env.USERS_FILE;
const clients = JSON.parse(fs.readFileSync(process.env.CLIENTS_FILE, 'utf8'));
const STRONG_ACR = 'http://id.elegnamnden.se/loa/1.0/loa3';
const WEAK_ACR = 'http://id.elegnamnden.se/loa/1.0/loa2';

function users() {
  return JSON.parse(fs.readFileSync(usersFile, 'utf8'));
}

const { privateKey } = crypto.generateKeyPairSync('rsa', { modulusLength: 2048 });
const jwk = { ...privateKey.export({ format: 'jwk' }), kid: 'test-1', use: 'sig', alg: 'RS256' };

const provider = new Provider(issuer, {
  clients,
  jwks: { keys: [jwk] },
  cookies: { keys: [crypto.randomBytes(32).toString('hex')] },
  claims: {
    openid: ['sub', 'acr', 'amr', 'auth_time'],
    profile: ['name', 'given_name', 'family_name'],
    email: ['email'],
    hsa: ['hsa_id', 'vom_roles', 'vom_unit'],
  },
  scopes: ['openid', 'profile', 'email', 'hsa', 'offline_access'],
  acrValues: [STRONG_ACR, WEAK_ACR],
  // The claims go into the ID token itself, as Swedish identity providers do.
  conformIdTokenClaims: false,
  features: {
    devInteractions: { enabled: false },
    rpInitiatedLogout: { enabled: true },
  },
  pkce: { required: () => true },
  interactions: { url: (ctx, interaction) => `/interaction/${interaction.uid}` },
  async findAccount(ctx, id) {
    const user = users()[id];
    if (!user) return undefined;
    return {
      accountId: id,
      async claims() {
        return { sub: id, ...users()[id]?.claims };
      },
    };
  },
  ttl: { Session: 3600, Interaction: 600, IdToken: 300, AccessToken: 300 },
});
provider.proxy = false;

const escape = (s) => String(s).replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

function page(res, uid, message = '') {
  res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
  res.end(`<!doctype html><html lang="sv"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1"><title>Test-IdP</title></head>
<body style="font-family: sans-serif; max-width: 28rem; margin: 2rem auto">
<h1>Test-IdP (organisationens inloggning)</h1>
${message ? `<p role="alert" style="color: #a00">${escape(message)}</p>` : ''}
<form method="post" action="/interaction/${escape(uid)}/login">
<p><label>Användare <input name="login" autofocus></label></p>
<p><label>Lösenord <input name="password" type="password"></label></p>
<p><label><input type="checkbox" name="siths" value="1"> SITHS-kort</label></p>
<p><button type="submit">Logga in</button></p>
</form></body></html>`);
}

async function readForm(req) {
  const chunks = [];
  for await (const chunk of req) chunks.push(chunk);
  return new URLSearchParams(Buffer.concat(chunks).toString('utf8'));
}

async function interaction(req, res) {
  const [, , uid, step] = req.url.split('?')[0].split('/');
  const details = await provider.interactionDetails(req, res);
  const { prompt, params, session } = details;
  if (prompt.name === 'login') {
    if (req.method === 'POST' && step === 'login') {
      const form = await readForm(req);
      const user = users()[form.get('login')];
      if (!user || user.password !== form.get('password')) {
        return page(res, uid, 'Fel användare eller lösenord.');
      }
      const strong = form.get('siths') === '1';
      return provider.interactionFinished(req, res, {
        login: {
          accountId: form.get('login'),
          acr: strong ? STRONG_ACR : WEAK_ACR,
          amr: strong ? ['smartcard', 'pin'] : ['pwd'],
        },
      }, { mergeWithLastSubmission: false });
    }
    return page(res, uid);
  }
  // Consent: the organisation has agreed to the client once for all its staff.
  const grant = details.grantId
    ? await provider.Grant.find(details.grantId)
    : new provider.Grant({ accountId: session.accountId, clientId: params.client_id });
  if (prompt.details.missingOIDCScope) grant.addOIDCScope(prompt.details.missingOIDCScope.join(' '));
  if (prompt.details.missingOIDCClaims) grant.addOIDCClaims(prompt.details.missingOIDCClaims);
  if (prompt.details.missingResourceScopes) {
    for (const [indicator, scopes] of Object.entries(prompt.details.missingResourceScopes)) {
      grant.addResourceScope(indicator, scopes.join(' '));
    }
  }
  const grantId = await grant.save();
  return provider.interactionFinished(req, res, { consent: { grantId } }, { mergeWithLastSubmission: true });
}

const callback = provider.callback();
http.createServer((req, res) => {
  if (req.url.startsWith('/interaction/')) {
    interaction(req, res).catch((err) => {
      res.writeHead(400, { 'content-type': 'text/plain; charset=utf-8' });
      res.end(`interaction failed: ${err.message}`);
    });
    return;
  }
  callback(req, res);
}).listen(port, '127.0.0.1', () => {
  console.log(`oidc-provider ready at ${issuer}`);
});
