// The current JavaScript SDK signing with a key of the server's credentials file, over HTTP/1.1 and HTTP/2 (h2c, or
// TLS with ALPN when given the certificate to trust): answered; with a wrong secret: InvalidSignatureException.
// Usage: node js_signed.mjs ENDPOINT KEY SECRET [CA-FILE]
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { Agent } from 'node:https';
import { KinesisClient, ListStreamsCommand } from '@aws-sdk/client-kinesis';
import { NodeHttpHandler, NodeHttp2Handler } from '@smithy/node-http-handler';

const [endpoint, accessKeyId, secretAccessKey, caFile] = process.argv.slice(2);
const ca = caFile ? readFileSync(caFile) : undefined;
const handlers = ca
  ? [new NodeHttpHandler({ httpsAgent: new Agent({ ca }) }), new NodeHttp2Handler({ nodeHttp2ConnectOptions: { ca } })]
  : [undefined, new NodeHttp2Handler()];
for (const requestHandler of handlers) {
  const options = { endpoint, region: 'us-east-1', maxAttempts: 1, ...(requestHandler ? { requestHandler } : {}) };
  const signed = new KinesisClient({ ...options, credentials: { accessKeyId, secretAccessKey } });
  assert.ok(Array.isArray((await signed.send(new ListStreamsCommand({}))).StreamNames));
  const wrong = new KinesisClient({ ...options, credentials: { accessKeyId, secretAccessKey: 'wrong' } });
  await assert.rejects(wrong.send(new ListStreamsCommand({})), (e) => e.name === 'InvalidSignatureException' && e.$metadata.httpStatusCode === 400);
  signed.destroy();
  wrong.destroy();
}
console.log(`js: signed calls answered over HTTP/1.1 and ${ca ? 'HTTP/2 by ALPN, over TLS' : 'h2c'}, wrong ones refused`);
