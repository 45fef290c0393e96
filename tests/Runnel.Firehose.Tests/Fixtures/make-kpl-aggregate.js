// Writes kpl-aggregate.bin: one Kinesis record in the KPL's aggregated format, made by npm aws-kinesis-agg (the
// reference implementation's JavaScript port), for RecordSplitterTests. Run once, by hand:
//   npm install aws-kinesis-agg && node make-kpl-aggregate.js
// Its user records: five JSON lines ({"user":i,"msg":"hello i"}) and "raw bytes\n" with an explicit hash key.
const agg = require('aws-kinesis-agg');
const records = [];
for (let i = 0; i < 5; i++) records.push({ partitionKey: `pk-${i % 2}`, data: Buffer.from(`{"user":${i},"msg":"hello ${i}"}\n`) });
records.push({ partitionKey: 'pk-x', explicitHashKey: '12345', data: Buffer.from('raw bytes\n') });
const out = [];
agg.aggregate(records, (encoded, cb) => { out.push(encoded); cb(); }, () => {
  for (const e of out) require('fs').writeFileSync('kpl-aggregate.bin', e.data);
}, (err) => console.error('err', err));
