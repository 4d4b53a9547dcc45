// Calls GetCallerIdentity with the AWS SDK for JavaScript v3 for SECONDS
// seconds, every half second, and prints how many calls it made. Run by
// tests/endpoint.rs as the command of `mfa exec --server`: credentials
// come from the SDK's default chain, which finds the container endpoint.
// A new client each time: a client keeps its credentials until 5 minutes
// before they expire, longer than the test runs.
"use strict";
const { STSClient, GetCallerIdentityCommand } = require("@aws-sdk/client-sts");

async function main() {
  const seconds = Number(process.argv[2] || "13");
  const end = Date.now() + seconds * 1000;
  let calls = 0;
  while (Date.now() < end) {
    const client = new STSClient({});
    const identity = await client.send(new GetCallerIdentityCommand({}));
    if (!identity.Arn) throw new Error("GetCallerIdentity gave no Arn");
    calls += 1;
    await new Promise((resolve) => setTimeout(resolve, 500));
  }
  console.log(calls);
}

main().catch((error) => {
  console.error(`sts_loop.js: ${error.name}: ${error.message}`);
  process.exit(1);
});
