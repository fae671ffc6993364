// Enrolment end to end against the local runtime (its IAM enforces the route table's grants): the
// operator's command makes a token, a device enrols over a real WebSocket, the operator lists and removes
// it; bad requests and spent or revoked tokens are refused with nothing registered.
import { DynamoDBClient, UpdateItemCommand } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, PutCommand } from '@aws-sdk/lib-dynamodb';
import { ed25519 } from '@noble/curves/ed25519.js';
import { describe, expect, it } from 'vitest';
import { localAwsConfig } from '../../infra/local/dynamo.js';
import { LOCAL_TABLE } from '../../infra/operator-table.js';
import { encodeBase64Url } from '../../shared/core/base64.js';
import { verifyGroupPolicy } from '../../shared/core/group-policy.js';
import { operatorKeyFingerprint } from '../../shared/core/operator-key.js';
import { hashToken } from '../../shared/core/tokens.js';
import { enrolDevice, generateDeviceKeyPair } from '../../sdk/node.js';
import { useCleanups } from '../support/harness.js';
import { deviceKeyFingerprint } from '../../shared/core/device-approval.js';
import { jsonLines, newEnrolmentToken, operator, operatorKey, operatorKeyPath, operatorScript } from '../support/operator.js';
import { useLocalRuntime } from '../support/runtime.js';
import { TestSocket } from '../support/ws-client.js';

const runtime = useLocalRuntime();
const defer = useCleanups();

const newToken = (group: string, ...options: string[]) => newEnrolmentToken(runtime().dynamoEndpoint, group, ...options);

describe('enrolment', () => {
  it('a token from the operator enrols one device into its group; the operator lists it, then removes it', async () => {
    const { token, tokenId } = await newToken('Finance laptops');
    const keys = await generateDeviceKeyPair();
    const enrolled = await enrolDevice({ relay: runtime().httpUrl, token, publicKey: keys.publicKey, name: 'Reception PC', os: 'linux' });
    // The device pins the operator's key, which the token names by its fingerprint.
    expect(enrolled.operatorKey).toBe(operatorKey().publicKey);
    expect(enrolled).toMatchObject({ name: 'Reception PC', group: 'Finance laptops', endpoints: { webSocketUrl: runtime().endpoints.webSocketUrl } });

    const listed = await operator(runtime().dynamoEndpoint, 'devices', '--json');
    expect(jsonLines(listed.stdout)).toContainEqual(
      expect.objectContaining({ deviceId: enrolled.deviceId, name: 'Reception PC', group: 'Finance laptops', os: 'linux', publicKey: keys.publicKey, enrolledWith: tokenId }),
    );
    const tokens = await operator(runtime().dynamoEndpoint, 'enrolment-tokens', '--json');
    expect(jsonLines(tokens.stdout)).toContainEqual(expect.objectContaining({ tokenId, usesLeft: 0 }));
    expect(tokens.stdout).not.toContain(token);

    // Awaiting approval; the operator signs it only for the key the device showed.
    const pending = await operator(runtime().dynamoEndpoint, 'devices', '--pending');
    expect(pending.stdout).toMatch(new RegExp(`${enrolled.deviceId}  Finance laptops  Reception PC  linux  key ${deviceKeyFingerprint(keys.publicKey)}  AWAITING APPROVAL`));
    const otherKey = deviceKeyFingerprint((await generateDeviceKeyPair()).publicKey);
    const mismatch = await operator(runtime().dynamoEndpoint, 'device', 'approve', 'Reception PC', `--fingerprint=${otherKey}`);
    expect(mismatch).toMatchObject({ status: 1, stderr: expect.stringContaining(`with the key fingerprint ${deviceKeyFingerprint(keys.publicKey)}, not ${otherKey}: not approved`) });
    const approved = await operator(runtime().dynamoEndpoint, 'device', 'approve', 'Reception PC', `--fingerprint=${deviceKeyFingerprint(keys.publicKey)}`);
    expect(approved).toMatchObject({ status: 0, stdout: expect.stringContaining('Approved Reception PC') });
    expect(jsonLines((await operator(runtime().dynamoEndpoint, 'devices', '--pending', '--json')).stdout)).not.toContainEqual(expect.objectContaining({ deviceId: enrolled.deviceId }));

    // Spent: a second device is refused.
    const again = enrolDevice({ relay: runtime().httpUrl, token, publicKey: keys.publicKey, name: 'Other', os: 'linux' });
    await expect(again).rejects.toMatchObject({ code: 'invalid-enrolment-token' });

    const removed = await operator(runtime().dynamoEndpoint, 'device', 'remove', enrolled.deviceId);
    expect(removed).toMatchObject({ status: 0, stdout: expect.stringContaining('it can no longer sign in') });
    expect(jsonLines((await operator(runtime().dynamoEndpoint, 'devices', '--json')).stdout)).not.toContainEqual(
      expect.objectContaining({ deviceId: enrolled.deviceId }),
    );
    const gone = await operator(runtime().dynamoEndpoint, 'device', 'remove', enrolled.deviceId);
    expect(gone.status).toBe(1);
    expect(gone.stderr).toContain('npm run operator -- devices');
  });

  it('a revoked token enrols nothing', async () => {
    const { token, tokenId } = await newToken('Kiosks', '--uses', '5');
    expect((await operator(runtime().dynamoEndpoint, 'revoke-enrolment-token', tokenId)).status).toBe(0);
    const keys = await generateDeviceKeyPair();
    await expect(enrolDevice({ relay: runtime().httpUrl, token, publicKey: keys.publicKey, name: 'Kiosk', os: 'linux' })).rejects.toMatchObject({
      code: 'invalid-enrolment-token',
    });
    expect((await operator(runtime().dynamoEndpoint, 'devices', '--json')).stdout).not.toContain(keys.publicKey);
  });

  it('malformed requests are refused with what is wrong, and spend nothing', async () => {
    const { token } = await newToken('G');
    const socket = await TestSocket.open(runtime().wsUrl);
    defer(() => socket.close());
    const keys = await generateDeviceKeyPair();
    const base = { action: 'enrolDevice', token, publicKey: keys.publicKey, name: 'PC', os: 'linux' };
    for (const [change, message] of [
      [{ publicKey: 'short' }, /"publicKey" must be an Ed25519 public key/],
      [{ name: 'evil\u202Ename' }, /"name" is not a device name/],
      [{ os: 'Linux 6.1 <script>' }, /"os" must be an operating system name/],
      [{ token: 'x' }, /"token" must be an enrolment token/],
    ] as const) {
      expect(await socket.request({ ...base, ...change })).toMatchObject({ type: 'error', code: 'invalid-request', message: expect.stringMatching(message) });
    }
    // The token was not spent by any of them.
    expect(await socket.request(base)).toMatchObject({ type: 'deviceEnrolled', group: 'G' });
  });

  it('a relay that hands the device another operator key is caught by the token’s fingerprint', async () => {
    const { token } = await newToken('Finance laptops');
    const client = new DynamoDBClient({ ...localAwsConfig, endpoint: runtime().dynamoEndpoint });
    defer(() => client.destroy());
    const impostor = encodeBase64Url(ed25519.getPublicKey(ed25519.utils.randomSecretKey()));
    await client.send(
      new UpdateItemCommand({
        TableName: LOCAL_TABLE,
        Key: { pk: { S: `ENROLMENT#${hashToken(token)}` } },
        UpdateExpression: 'SET operatorKey = :impostor',
        ExpressionAttributeValues: { ':impostor': { S: impostor } },
      }),
    );
    const keys = await generateDeviceKeyPair();
    const enrolling = enrolDevice({ relay: runtime().httpUrl, token, publicKey: keys.publicKey, name: 'PC', os: 'linux' });
    await expect(enrolling).rejects.toMatchObject({ name: 'DeviceEnrolmentError', code: 'operator-key-mismatch' });
  });

  it('the operator signs group policies with a key made once, and lists them', async () => {
    const database = runtime().dynamoEndpoint;
    const key = await operator(database, 'operator-key', '--json');
    expect(jsonLines(key.stdout)).toEqual([{ publicKey: operatorKey().publicKey, fingerprint: operatorKeyFingerprint(operatorKey().publicKey), file: operatorKeyPath, made: false }]);
    const rules = ['--allow', 'Service desk:control', '--allow', 'Admins:control:notice'];
    // The issuer comes from the operator, never from the relay: without one (and none signed before) nothing is signed.
    const { ASSIST_OIDC_ISSUER: _issuer, ASSIST_OIDC_CLIENT_ID: _client, ...environment } = process.env;
    const unnamed = await operatorScript('operator.ts', ['policy', 'set', '--group', 'Policy test', ...rules, '--local', database], { ...environment, ASSIST_OPERATOR_KEY: operatorKeyPath });
    expect(unnamed).toMatchObject({ status: 1, stderr: expect.stringContaining('say which issuer the technicians of "Policy test" sign in with') });
    const plainHttp = await operator(database, 'policy', 'set', '--group', 'Policy test', ...rules, '--issuer', 'http://login.example.org', '--client-id', 'c');
    expect(plainHttp).toMatchObject({ status: 2, stderr: expect.stringContaining('--issuer "http://login.example.org" must be an https URL') });
    const issuer = ['--issuer', 'https://login.example.org/tenant', '--client-id', 'help-desk', '--group-claim', 'roles'];
    const set = await operator(database, 'policy', 'set', '--group', 'Policy test', ...rules, ...issuer, '--json');
    expect(set.status).toBe(0);
    const [signed] = jsonLines(set.stdout);
    expect(verifyGroupPolicy(operatorKey().publicKey, signed, 'Policy test')).toMatchObject({
      rules: [
        { technicianGroup: 'Service desk', level: 'control', consent: 'ask' },
        { technicianGroup: 'Admins', level: 'control', consent: 'notice' },
      ],
      technicianIssuer: { issuer: 'https://login.example.org/tenant', clientId: 'help-desk', groupClaim: 'roles' },
    });
    // Signed again without --issuer: the issuer this key signed before; with ASSIST_OIDC_*: those.
    const again = await operator(database, 'policy', 'set', '--group', 'Policy test', ...rules, '--json');
    expect(jsonLines(again.stdout)[0]).toMatchObject({ policy: { technicianIssuer: { issuer: 'https://login.example.org/tenant' } } });
    const fromEnvironment = await operatorScript('operator.ts', ['policy', 'set', '--group', 'Policy test', ...rules, '--local', database, '--json'], {
      ...environment,
      ASSIST_OPERATOR_KEY: operatorKeyPath,
      ASSIST_OIDC_ISSUER: 'https://login.example.org/other',
      ASSIST_OIDC_CLIENT_ID: 'help-desk',
    });
    expect(jsonLines(fromEnvironment.stdout)[0]).toMatchObject({ policy: { technicianIssuer: { issuer: 'https://login.example.org/other', clientId: 'help-desk', groupClaim: 'groups' } } });
    const listed = await operator(database, 'policies');
    expect(listed.stdout).toContain('"Policy test" (signed ');
    expect(listed.stdout).toContain('Service desk: control, asks first; Admins: control, no question, visible notice; technicians of https://login.example.org/other (client help-desk, groups in "groups")');
    const bad = await operator(database, 'policy', 'set', '--group', 'Policy test', '--allow', 'Service desk:admin');
    expect(bad).toMatchObject({ status: 1, stderr: expect.stringContaining('say view or control after the group') });
  });

  it('a device written before the Collections index is listed once the operator runs upgrade-table', async () => {
    const database = runtime().dynamoEndpoint;
    const client = new DynamoDBClient({ ...localAwsConfig, endpoint: database });
    defer(() => client.destroy());
    // As an older release wrote it: the item alone, without the collection it is listed from.
    const deviceId = 'Older0device0000000001';
    const item = { deviceId, name: 'Older PC', os: 'linux', group: 'Older group', publicKey: 'k', enrolledAt: 1_800_000_000, enrolledWith: 't' };
    await DynamoDBDocumentClient.from(client).send(new PutCommand({ TableName: LOCAL_TABLE, Item: { pk: `DEVICE#${deviceId}`, ...item } }));
    const listedIds = async () => jsonLines((await operator(database, 'devices', '--json')).stdout).map((device) => device.deviceId);
    expect(await listedIds()).not.toContain(deviceId);
    expect(await operator(database, 'upgrade-table', '--json')).toMatchObject({ status: 0, stdout: '{"filed":1}\n' });
    expect(await listedIds()).toContain(deviceId);
    expect(await operator(database, 'upgrade-table')).toMatchObject({ status: 0, stdout: expect.stringContaining('Nothing to file') });
  });

  it('the operator command refuses bad input with a sentence', async () => {
    const database = runtime().dynamoEndpoint;
    const noGroup = await operator(database, 'enrolment-token', '--expires', '7d');
    expect(noGroup.status).toBe(2);
    expect(noGroup.stderr.split('\n')[0]).toBe('error: say which device group the token enrols into: --group NAME');
    const badExpiry = await operator(database, 'enrolment-token', '--group', 'G', '--expires', '120d');
    expect(badExpiry).toMatchObject({ status: 1, stderr: 'error: an enrolment token lives from 1 second to 90 days\n' });
    const badUses = await operator(database, 'enrolment-token', '--group', 'G', '--expires', '1d', '--uses', 'many');
    expect(badUses).toMatchObject({ status: 1, stderr: expect.stringContaining('enrols from 1 to 10000 devices') });
    // The relay's own address given for the database: a sentence, not a stack trace.
    const notTheDatabase = await operator(runtime().httpUrl, 'devices');
    expect(notTheDatabase.status).toBe(1);
    expect(notTheDatabase.stderr).toMatch(/^error: .*--local takes the URL npm start prints as "Database"/);
  });
});
