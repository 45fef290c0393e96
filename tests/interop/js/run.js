// Runs the JavaScript interop suites (the SDK over h2c, then raw CBOR) against one endpoint and ends
// with the line "N passed, M failed". Usage: node run.js ENDPOINT [TEST-NAME-SUBSTRING]
import { ENDPOINT, registeredTests, runTests } from './harness.js';

if (!ENDPOINT) {
  console.log('usage: node run.js ENDPOINT (or set KINESIS_ENDPOINT)\n0 passed, 1 failed');
  process.exit(2);
}
await import('./sdk.test.js');
await import('./cbor.test.js');
await import('./fanout.test.js');
await import('./newops.test.js');
await import('./firehose.test.js');
await import('./channels.test.js');
await import('./cloudwatch.test.js');
const started = Date.now();
const { passed, failed } = await runTests(process.argv[3] || '');
console.log(`js: ${passed + failed} of ${registeredTests().length} tests in ${((Date.now() - started) / 1000).toFixed(1)}s against ${ENDPOINT} (node ${process.version})`);
console.log(`${passed} passed, ${failed} failed`);
// HTTP/2 sessions of the SDK client stay open; exit instead of waiting for them.
process.exit(failed ? 1 : 0);
