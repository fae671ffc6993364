// The operator's device commands: `npm run operator -- <command> (--table NAME | --local URL) …`.
// Enrolment tokens and devices (docs/help-desk.md), read and written in the relay's table directly with
// the operator's AWS credentials (or the local runtime's dynalite), through the same use cases and adapter
// the relay uses.
import { parseArgs } from 'node:util';
import { ApiGatewayNotifier, createManagementClient } from '../shared/server/adapters/api-gateway-notifier.js';
import { DynamoDeviceRegistry } from '../shared/server/adapters/dynamo-device-registry.js';
import { silentLog } from '../shared/server/ports/log.js';
import { localAwsConfig } from './local/dynamo.js';
import { parseDurationSeconds } from '../shared/core/durations.js';
import type { DeviceRecord } from '../shared/server/ports/device-registry.js';
import {
  createEnrolmentToken,
  listDevices,
  listEnrolmentTokens,
  MAX_ENROLMENT_TOKEN_USES,
  OperatorError,
  removeDevice,
  revokeEnrolmentToken,
} from '../shared/server/use-cases/enrolment.js';
import { ensureOperatorKey, operatorKeyFile, readOperatorKey } from './operator-key.js';
import { namesNoIssuer, type SignedGroupPolicy } from '../shared/core/group-policy.js';
import { DEFAULT_GROUP_CLAIM, parseTechnicianIssuer } from '../shared/core/technician-issuer.js';
import type { TechnicianIssuer } from '../shared/core/technician.js';
import { technicianIssuerFromEnvironment } from '../shared/server/config/technician-issuer.js';
import { operatorKeyFingerprint } from '../shared/core/operator-key.js';
import { deviceKeyFingerprint } from '../shared/core/device-approval.js';
import { approveDevice, listPendingDevices } from '../shared/server/use-cases/device-approval.js';
import { listGroupPolicies, parsePermittedViewers, PERMITTED_VIEWERS_FORMAT, setGroupPolicy } from '../shared/server/use-cases/group-policies.js';
import { operatorTable, tableErrorSentence, tableOptions, tableOptionsUsage } from './operator-table.js';
import { fileIntoCollections } from './upgrade-table.js';

const usage = `Usage: npm run operator -- <command> (--table NAME | --local URL) [options]

Commands:
  operator-key       make the operator's signing key (Ed25519) if there is none, and show
                     its public half. It stays on this machine (--operator-key FILE, else
                     $ASSIST_OPERATOR_KEY, else ~/.config/assist-relay/operator-key.json, 0600):
                     devices pin it at enrolment and obey only policies it signed. Back it up;
                     a new key means enrolling every device again.
  policy set --group NAME [--allow ${PERMITTED_VIEWERS_FORMAT} ...]
             [--issuer URL --client-id ID [--group-claim NAME]]
                     sign and store who may offer help to the devices in the group NAME: each
                     --allow names a technician group (from the sign-in token's group claim),
                     the most it may be given, and whether the device asks its person first
                     (ask, the default) or connects with a notice that stays visible for the
                     whole session (notice). The first --allow naming one of a technician's
                     groups applies. No --allow: nobody may offer.
                     The policy also names the issuer technicians sign in with: devices
                     believe only ID tokens of that issuer, so it comes from your deployment
                     configuration, never from the relay: --issuer/--client-id/--group-claim
                     (the values of CDK context oidcIssuer/oidcClientId/oidcGroupClaim, or
                     the Cognito pool's issuer and client; npm start prints its own as
                     "Sign-in"), else $ASSIST_OIDC_ISSUER, $ASSIST_OIDC_CLIENT_ID and
                     $ASSIST_OIDC_GROUP_CLAIM, else the issuer of the group's current policy
                     if your operator key signed it. Signing a policy again with another
                     issuer moves the group's devices to it.
  policies           list the signed policies: group, technician groups, level, consent,
                     issuer
  enrolment-token --group NAME --expires DURATION [--uses N]
                     make a token that enrols devices into the group NAME; it is shown
                     once (the relay keeps only its hash). DURATION: 90m, 12h, 7d (at most
                     90d). N: how many devices it may enrol (default 1, at most ${MAX_ENROLMENT_TOKEN_USES}).
                     It ends with the operator key's fingerprint: the devices pin that key.
                     On the device: assist enrol --relay URL --token TOKEN
  enrolment-tokens   list the unexpired tokens: id, group, uses left, expiry
  revoke-enrolment-token ID
                     the token with this id (from the list) enrols nothing more
  devices [--pending]
                     list the enrolled devices: id, group, name, OS, key fingerprint,
                     approved or awaiting approval, enrolled, last seen (--pending: only
                     those awaiting approval)
  device approve ID|NAME [--fingerprint=F]
                     sign the device's record (id, name, group, key) with the operator key:
                     until then technicians see it as awaiting approval and cannot offer it
                     help, and afterwards their clients refuse it if the relay changes any
                     of it. Compare the key fingerprint first with the one \`assist enrol\`
                     showed on the device (--fingerprint=F refuses to sign another): the
                     relay's table is not the device's word
  device remove ID|NAME [--connections URL]
                     remove a device at once: it can no longer sign in, and its agent stops
                     at its next heartbeat (within 5 minutes); with --connections (the
                     stage's @connections endpoint: https://<api id>.execute-api.<region>.
                     amazonaws.com/<stage> on AWS, <Internal URL>/local for npm start) its
                     connection is closed now
  upgrade-table      once after updating a relay whose table had no Collections index: files
                     its devices, policies and enrolment tokens into that index, which the
                     lists read (until then they are missing from every list; they still
                     sign in). Reads the whole table once; safe to run again

Options:
${tableOptionsUsage}
  --operator-key FILE
                     the operator's signing key (operator-key, policy set, enrolment-token,
                     device approve)
  --json             JSON output (one object per line for lists)
  -h, --help         show this help

Examples:
  npm run operator -- operator-key
  npm run operator -- policy set --group "Finance laptops" --allow "Service desk:control" --allow "Auditors:view" \
      --issuer http://127.0.0.1:8788 --client-id assist-relay --local http://127.0.0.1:53412
  npm run operator -- enrolment-token --group "Finance laptops" --expires 7d --local http://127.0.0.1:53412
  npm run operator -- devices --pending --table RelayStack-Table1234 --region eu-west-1
  npm run operator -- device approve "Reception PC" --fingerprint 9sQk3hV0cJ0Xo2VfX5mZbQ --local http://127.0.0.1:53412
  npm run operator -- device remove 3q2lYw7Xk1l0bq8VtX3u2A --local http://127.0.0.1:53412
`;

function fail(message: string, code = 2): never {
  console.error(code === 2 ? `error: ${message}\n\n${usage}` : `error: ${message}`);
  process.exit(code);
}

function parseOptions() {
  return parseArgs({
    options: {
      ...tableOptions,
      group: { type: 'string' },
      expires: { type: 'string' },
      uses: { type: 'string' },
      connections: { type: 'string' },
      allow: { type: 'string', multiple: true },
      issuer: { type: 'string' },
      'client-id': { type: 'string' },
      'group-claim': { type: 'string' },
      'operator-key': { type: 'string' },
      pending: { type: 'boolean', default: false },
      fingerprint: { type: 'string' },
      json: { type: 'boolean', default: false },
      help: { type: 'boolean', short: 'h', default: false },
    },
    allowPositionals: true,
    strict: true,
  });
}

let parsed: ReturnType<typeof parseOptions>;
try {
  parsed = parseOptions();
} catch (error) {
  fail((error as Error).message);
}
const { values, positionals } = parsed;
if (values.help) {
  console.log(usage);
  process.exit(0);
}
const [command, ...rest] = positionals;
const commands = ['operator-key', 'policy', 'policies', 'enrolment-token', 'enrolment-tokens', 'revoke-enrolment-token', 'devices', 'device', 'upgrade-table'];
if (command === undefined || !commands.includes(command)) fail(command === undefined ? 'say which command' : `unknown command "${command}"`);

const keyFile = operatorKeyFile(values['operator-key']);
if (command === 'operator-key') {
  if (rest.length > 0) fail(`operator-key takes no arguments besides its options, not "${rest.join(' ')}"`);
  try {
    const key = ensureOperatorKey(keyFile);
    const fingerprint = operatorKeyFingerprint(key.publicKey);
    if (values.json) console.log(JSON.stringify({ publicKey: key.publicKey, fingerprint, file: keyFile, made: key.made }));
    else {
      console.log(`${key.made ? 'Made the operator key' : 'The operator key'} in ${keyFile} (only you can read it).
Public key ${key.publicKey}, fingerprint ${fingerprint}: every enrolment token ends with it.${key.made ? '\nBack the file up: devices enrolled with it obey only policies it signs.' : ''}`);
    }
    process.exit(0);
  } catch (error) {
    fail(error instanceof OperatorError ? error.message : `cannot write ${keyFile}: ${(error as Error).message}`, 1);
  }
}

const target = operatorTable(values);
if (typeof target === 'string') fail(target);
const nowSeconds = () => Math.floor(Date.now() / 1000);
const registry = new DynamoDeviceRegistry(target.client, target.table, nowSeconds);
const when = (seconds: number) => new Date(seconds * 1000).toISOString().replace(/\.000Z$/, 'Z');

function printDevice(device: DeviceRecord): void {
  const fingerprint = deviceKeyFingerprint(device.publicKey);
  if (values.json) return console.log(JSON.stringify({ ...device, fingerprint }));
  const approval = device.approval ? `approved ${when(device.approval.approvedAt)}` : 'AWAITING APPROVAL';
  console.log(`${device.deviceId}  ${device.group}  ${device.name}  ${device.os}  key ${fingerprint}  ${approval}  enrolled ${when(device.enrolledAt)}  last seen ${device.lastSeenAt ? when(device.lastSeenAt) : 'never'}`);
}

function printPolicy(signed: SignedGroupPolicy): void {
  const { group, issuedAt, rules } = signed.policy;
  if (values.json) return console.log(JSON.stringify(signed));
  const who = rules.map((rule) => `${rule.technicianGroup}: ${rule.level}, ${rule.consent === 'ask' ? 'asks first' : 'no question, visible notice'}`);
  const issuer = namesNoIssuer(signed)
    ? `names no issuer, so its devices refuse every offer: sign it again (policy set --group "${group}" --issuer …)`
    : `technicians of ${signed.policy.technicianIssuer.issuer} (client ${signed.policy.technicianIssuer.clientId}, groups in "${signed.policy.technicianIssuer.groupClaim}")`;
  console.log(`"${group}" (signed ${when(issuedAt)}): ${who.length === 0 ? 'nobody may offer help' : who.join('; ')}; ${issuer}`);
}

/** --issuer/--client-id/--group-claim, else the ASSIST_OIDC_* variables (the names the stack gives the functions), else none. */
function givenTechnicianIssuer(): TechnicianIssuer | undefined {
  try {
    if (values.issuer === undefined) {
      if (values['client-id'] !== undefined || values['group-claim'] !== undefined) fail('--client-id and --group-claim go with --issuer: give the issuer URL too');
      return technicianIssuerFromEnvironment();
    }
    if (values['client-id'] === undefined) fail('--issuer needs --client-id: the client id the issuer gave the relay (assist-relay for npm start)');
    return parseTechnicianIssuer(values.issuer, values['client-id'], values['group-claim'] ?? DEFAULT_GROUP_CLAIM, (key) => `--${{ issuer: 'issuer', clientId: 'client-id', groupClaim: 'group-claim' }[key]}`);
  } catch (error) {
    fail((error as Error).message);
  }
}

try {
  switch (command) {
    case 'enrolment-token': {
      if (rest.length > 0) fail(`enrolment-token takes no arguments besides its options, not "${rest.join(' ')}"`);
      if (values.group === undefined) fail('say which device group the token enrols into: --group NAME');
      if (values.expires === undefined) fail('say how long the token lives: --expires DURATION (e.g. 7d)');
      const ttlSeconds = parseDurationSeconds(values.expires);
      if (ttlSeconds === undefined) fail(`--expires takes a duration such as 90m, 12h or 7d, not "${values.expires}"`);
      const uses = values.uses === undefined ? 1 : /^\d+$/.test(values.uses) ? Number(values.uses) : NaN;
      const { publicKey: operatorKey } = readOperatorKey(keyFile);
      const { token, record } = await createEnrolmentToken(registry, nowSeconds(), { group: values.group, ttlSeconds, uses, operatorKey });
      if (values.json) {
        console.log(JSON.stringify({ token, tokenId: record.tokenId, group: record.group, expiresAt: record.expiresAt, uses: record.usesLeft }));
      } else {
        console.log(`Enrolment token for "${record.group}" (id ${record.tokenId}, ${record.usesLeft === 1 ? 'one device' : `${record.usesLeft} devices`}, until ${when(record.expiresAt)}):

  ${token}

It is shown only now: the relay keeps only its hash. On each device:
  assist enrol --relay <the relay's https:// address> --token ${token}`);
      }
      break;
    }
    case 'policy': {
      if (rest[0] !== 'set' || rest.length !== 1) fail('say what to do with which policy: policy set --group NAME --allow ...');
      if (values.group === undefined) fail('say which device group the policy governs: --group NAME');
      const rules = (values.allow ?? []).map(parsePermittedViewers);
      const technicianIssuer = givenTechnicianIssuer();
      const signed = await setGroupPolicy(registry, readOperatorKey(keyFile).secretKey, nowSeconds(), { group: values.group, rules, ...(technicianIssuer && { technicianIssuer }) });
      printPolicy(signed);
      break;
    }
    case 'policies': {
      const policies = await listGroupPolicies(registry);
      policies.forEach(printPolicy);
      if (policies.length === 0 && !values.json) console.log('No group policies: nobody may offer help to any device.');
      break;
    }
    case 'enrolment-tokens': {
      const tokens = await listEnrolmentTokens(registry);
      for (const token of tokens) {
        const { tokenHash: _hash, ...shown } = token;
        if (values.json) console.log(JSON.stringify(shown));
        else console.log(`${token.tokenId}  ${token.group}  ${token.usesLeft} left  until ${when(token.expiresAt)}`);
      }
      if (tokens.length === 0 && !values.json) console.log('No unexpired enrolment tokens.');
      break;
    }
    case 'revoke-enrolment-token': {
      if (rest.length !== 1) fail('say which token to revoke, by the id the list shows: revoke-enrolment-token ID');
      const token = await revokeEnrolmentToken(registry, rest[0]!);
      console.log(values.json ? JSON.stringify({ revoked: token.tokenId }) : `Revoked enrolment token ${token.tokenId} ("${token.group}"); devices it enrolled stay enrolled.`);
      break;
    }
    case 'devices': {
      if (rest.length > 0) fail(`devices takes no arguments besides its options, not "${rest.join(' ')}" (to approve one: device approve ID|NAME)`);
      const devices = values.pending ? await listPendingDevices(registry) : await listDevices(registry);
      devices.forEach(printDevice);
      if (devices.length === 0 && !values.json) console.log(values.pending ? 'No device awaits approval.' : 'No enrolled devices.');
      break;
    }
    case 'device': {
      if (rest[0] === 'approve' && rest.length === 2) {
        const device = await approveDevice(registry, readOperatorKey(keyFile).secretKey, rest[1]!, nowSeconds(), values.fingerprint);
        const fingerprint = deviceKeyFingerprint(device.publicKey);
        console.log(
          values.json
            ? JSON.stringify({ approved: device.deviceId, name: device.name, group: device.group, fingerprint })
            : `Approved ${device.name} (${device.deviceId}, "${device.group}", key ${fingerprint}): technicians may offer it help as the policy allows.${
                values.fingerprint === undefined ? ' You gave no --fingerprint: make sure it is the one the device showed.' : ''
              }`,
        );
        break;
      }
      if (rest[0] !== 'remove' || rest.length !== 2) fail('say what to do with which device: device approve ID|NAME, or device remove ID|NAME');
      const device = await removeDevice(registry, rest[1]!);
      const { connectionId } = device;
      const endpoint = values.connections;
      const closeNow = connectionId !== undefined && endpoint !== undefined;
      if (closeNow) {
        // The operator's own credentials (execute-api:ManageConnections), or the local runtime's stand-ins.
        const client = createManagementClient(endpoint, values.local ? localAwsConfig : { ...(values.region && { region: values.region }) });
        await new ApiGatewayNotifier(client, silentLog).disconnect(connectionId);
        client.destroy();
      }
      const connection = closeNow ? '; its connection is closed' : device.connectionId ? '; a running agent stops at its next heartbeat' : '';
      console.log(values.json ? JSON.stringify({ removed: device.deviceId, closed: closeNow }) : `Removed ${device.name} (${device.deviceId}, "${device.group}"): it can no longer sign in${connection}.`);
      break;
    }
    case 'upgrade-table': {
      if (rest.length > 0) fail(`upgrade-table takes no arguments besides its options, not "${rest.join(' ')}"`);
      const filed = await fileIntoCollections(target.client, target.table);
      console.log(values.json ? JSON.stringify({ filed }) : filed === 0 ? 'Nothing to file: every device, policy and enrolment token is listed already.' : `Filed ${filed} devices, policies and enrolment tokens: the lists show them now.`);
      break;
    }
  }
} catch (error) {
  // Ours name what to fix; the table's own failures (nothing at --local, no such --table) get their sentence too.
  fail(error instanceof OperatorError ? error.message : tableErrorSentence(error, values), 1);
} finally {
  target.client.destroy();
}
