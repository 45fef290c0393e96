// The npm aws-kinesis-agg side of KplInteropTests (run by the test, not by hand):
//   node kpl-interop.cjs <module dir> aggregate <in.json> <out.json>
//     in:  [{ partitionKey, explicitHashKey?, data (base64) }]  user records
//     out: [{ partitionKey, explicitHashKey?, data (base64) }]  the Kinesis records aws-kinesis-agg makes of them
//   node kpl-interop.cjs <module dir> deaggregate <in.json> <out.json>
//     in:  [{ partitionKey, explicitHashKey?, sequenceNumber, data (base64) }]  Kinesis records
//     out: [[{ partitionKey, explicitHashKey?, subSequenceNumber?, data (base64) }]]  their user records, per record
'use strict';
const fs = require('fs');
const [moduleDir, command, input, output] = process.argv.slice(2);
const agg = require(moduleDir);

function aggregate(records) {
  const encoded = [];
  const aggregator = new agg.RecordAggregator();
  const users = records.map((r) => {
    const user = { partitionKey: r.partitionKey, data: Buffer.from(r.data, 'base64') };
    if (r.explicitHashKey !== undefined && r.explicitHashKey !== null) user.explicitHashKey = r.explicitHashKey;
    return user;
  });
  aggregator.aggregateRecords(users, true, (err, record) => {
    if (err) throw err;
    encoded.push({
      partitionKey: record.partitionKey,
      explicitHashKey: record.ExplicitHashKey ?? record.explicitHashKey ?? null,
      data: Buffer.from(record.data).toString('base64'),
    });
  });
  return encoded;
}

function deaggregate(records) {
  return records.map((r) => {
    let users = null;
    const kinesisRecord = { partitionKey: r.partitionKey, explicitPartitionKey: r.explicitHashKey ?? undefined, sequenceNumber: r.sequenceNumber, data: r.data };
    agg.deaggregateSync(kinesisRecord, true, (err, result) => {
      if (err) throw err;
      users = result;
    });
    return users.map((u) => ({
      partitionKey: u.partitionKey,
      explicitHashKey: u.explicitPartitionKey ?? null,
      subSequenceNumber: u.subSequenceNumber ?? null,
      data: u.data,
    }));
  });
}

const records = JSON.parse(fs.readFileSync(input, 'utf8'));
let result;
if (command === 'aggregate') result = aggregate(records);
else if (command === 'deaggregate') result = deaggregate(records);
else throw new Error(`unknown command ${command}`);
fs.writeFileSync(output, JSON.stringify(result));
