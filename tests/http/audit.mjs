// Runs graphql-http's server audits against a running gateway and prints the
// results as one JSON document: [{id, name, status, reason}].
// Usage: node audit.mjs URL TOKEN   (the token goes in every request's Authorization)
import { auditServer } from 'graphql-http';

const [url, token] = process.argv.slice(2);
if (!url || !token) {
  console.error('usage: node audit.mjs URL TOKEN');
  process.exit(2);
}

// The audits call fetch with their own headers; the bearer token is added to each.
const authorised = (input, init = {}) => {
  const headers = new Headers(init.headers);
  headers.set('authorization', `Bearer ${token}`);
  return fetch(input, { ...init, headers });
};

const results = await auditServer({ url, fetchFn: authorised });
const report = [];
for (const result of results) {
  const entry = { id: result.id, name: result.name, status: result.status };
  if (result.status !== 'ok') {
    entry.reason = result.reason;
    if (result.response) {
      entry.httpStatus = result.response.status;
      entry.contentType = result.response.headers.get('content-type');
    }
  }
  report.push(entry);
}
console.log(JSON.stringify(report));
