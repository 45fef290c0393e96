// The current JavaScript SDK signing with a key of the server's credentials file, over HTTP/1.1 and over h2c (its
// HTTP/2 handler): answered; with a wrong secret: InvalidSignatureException.
import assert from 'node:assert/strict';
import { KinesisClient, ListStreamsCommand } from '@aws-sdk/client-kinesis';
import { NodeHttp2Handler } from '@smithy/node-http-handler';

const [endpoint, accessKeyId, secretAccessKey] = process.argv.slice(2);
for (const requestHandler of [undefined, new NodeHttp2Handler()]) {
  const options = { endpoint, region: 'us-east-1', maxAttempts: 1, ...(requestHandler ? { requestHandler } : {}) };
  const signed = new KinesisClient({ ...options, credentials: { accessKeyId, secretAccessKey } });
  assert.ok(Array.isArray((await signed.send(new ListStreamsCommand({}))).StreamNames));
  const wrong = new KinesisClient({ ...options, credentials: { accessKeyId, secretAccessKey: 'wrong' } });
  await assert.rejects(wrong.send(new ListStreamsCommand({})), (e) => e.name === 'InvalidSignatureException' && e.$metadata.httpStatusCode === 400);
  signed.destroy();
  wrong.destroy();
}
console.log('js: signed calls answered over HTTP/1.1 and h2c, wrong ones refused');
