// A tiny test harness for the JavaScript interop suites: a registry of named tests, a per-test timeout,
// unique stream names, stream clean-up after every test, and raw JSON/CBOR requests for what an SDK
// would not send. The runner (run.js) prints each failure and the closing "N passed, M failed" line.

import { randomBytes } from 'node:crypto';

export const ENDPOINT = (process.argv[2] || process.env.KINESIS_ENDPOINT || '').replace(/\/$/, '');
export const ACCOUNT = process.env.KINESIS_ACCOUNT || '000000000000';
export const REGION = process.env.KINESIS_REGION || 'us-east-1';
export const TARGET = 'Kinesis_20131202.';
export const JSON_TYPE = 'application/x-amz-json-1.1';
export const CBOR_TYPE = 'application/x-amz-cbor-1.1';
// Any well-formed SigV4 header passes: the server checks the shape of the credentials, not the signature.
export const DUMMY_AUTH = {
  Authorization: 'AWS4-HMAC-SHA256 Credential=a/20260101/us-east-1/kinesis/aws4_request, SignedHeaders=host, Signature=abc',
  'X-Amz-Date': '20260101T000000Z',
};
export const TEST_TIMEOUT_MS = 30_000;

const RUN_ID = randomBytes(4).toString('hex');
let counter = 0;
const tests = [];
let created = [];

/** Registers a test. */
export function test(name, fn) {
  tests.push({ name, fn });
}

export function registeredTests() {
  return tests;
}

/** A stream name no other test, suite or run uses; it is deleted when the current test ends. */
export function uniqueName(tag) {
  counter += 1;
  const name = `interop-js-${RUN_ID}-${tag}-${counter}`;
  created.push(name);
  return name;
}

export function streamArn(name) {
  return `arn:aws:kinesis:${REGION}:${ACCOUNT}:stream/${name}`;
}

export function notFound(name) {
  return `Stream ${name} under account ${ACCOUNT} not found.`;
}

/** One raw HTTP request (HTTP/1.1 through fetch): returns status, headers and the body bytes. */
export async function rawRequest(operation, body, { contentType = JSON_TYPE, auth = true, headers = {} } = {}) {
  const send = { ...(contentType ? { 'Content-Type': contentType } : {}), ...(auth ? DUMMY_AUTH : {}), ...headers };
  if (operation) send['X-Amz-Target'] = TARGET + operation;
  const response = await fetch(ENDPOINT + '/', {
    method: 'POST',
    headers: send,
    body,
    signal: AbortSignal.timeout(TEST_TIMEOUT_MS),
  });
  return { status: response.status, headers: response.headers, body: Buffer.from(await response.arrayBuffer()) };
}

/** A JSON request to one operation, sent as-is; returns status, headers and the parsed body (or null). */
export async function rawJson(operation, payload) {
  const response = await rawRequest(operation, JSON.stringify(payload));
  return { ...response, json: response.body.length ? JSON.parse(response.body.toString('utf8')) : null };
}

async function deleteStream(name) {
  try {
    // With the consumers registered to it (enhanced fan-out tests), as the Python suite does.
    await rawRequest('DeleteStream', JSON.stringify({ StreamName: name, EnforceConsumerDeletion: true }));
  } catch {
    // The server may be gone; nothing to clean then.
  }
}

/** Polls until check() returns a truthy value: at most `seconds`, every 50 ms. */
export async function waitFor(check, what, seconds = 20) {
  const deadline = Date.now() + seconds * 1000;
  for (;;) {
    const value = await check();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${seconds}s waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

export async function runTests(filter = '') {
  let passed = 0;
  let failed = 0;
  for (const { name, fn } of tests) {
    if (filter && !name.includes(filter)) continue;
    let timer;
    try {
      await Promise.race([
        fn(),
        new Promise((_, reject) => {
          timer = setTimeout(() => reject(new Error(`timed out after ${TEST_TIMEOUT_MS} ms`)), TEST_TIMEOUT_MS);
        }),
      ]);
      passed += 1;
    } catch (error) {
      failed += 1;
      const reason = error && error.message ? error.message : String(error);
      const type = error && error.name && error.name !== 'AssertionError' && error.name !== 'Error' ? `${error.name}: ` : '';
      console.log(`FAIL ${name}: ${type}${reason.replace(/\n+/g, ' ').slice(0, 1500)}`);
    } finally {
      clearTimeout(timer);
      const names = created;
      created = [];
      await Promise.all(names.map(deleteStream));
    }
  }
  return { passed, failed };
}

/** Records, for every call of an SDK client, the class of its response body and the ALPN protocol of its
 * HTTP/2 session (h2c, h2), so that a test can tell which wire the SDK used. Returns the list it fills. */
export function addTransportProbe(client, name = 'interopTransportProbe') {
  const seen = [];
  client.middlewareStack.add((next) => async (args) => {
    const result = await next(args);
    const body = result.response.body;
    seen.push({ stream: body?.constructor?.name, protocol: body?.session?.alpnProtocol });
    return result;
  }, { step: 'deserialize', name });
  return seen;
}
