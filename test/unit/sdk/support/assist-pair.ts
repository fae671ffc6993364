// An agent (the invitation's creator) and an expert through the handshake over the in-process relay (the real handlers on memory adapters), the
// agent asked to decide; and a way to send what a side that broke the rules would send.
import { encodeAssistMessage, type AssistMessage } from '../../../../sdk/assist-messages.js';
import { AgentSession, ExpertSession } from '../../../../sdk/assist-session.js';
import type { RelayClient } from '../../../../sdk/node.js';
import { fastClientOptions, Watch } from '../../../support/harness.js';
import { inProcessRelayWithClients } from '../../../support/in-process-relay.js';

const secrets = { secret: 'VK4Q9T2M', invitationPassword: 'correct', relayOrigin: 'ws://127.0.0.1' };

/** `heard` (a test file's) is woken by every event of the pair's sessions and clients: wait on their state with heard.until. */
export async function decidingPair(defer: (cleanup: () => unknown) => void, heard = new Watch()) {
  const { relay, newClient } = await inProcessRelayWithClients(defer, { ...fastClientOptions, sessionStream: 'manual' });
  // Heard from the start, so the streams the sessions open are heard too.
  const agentClient = newClient();
  heard.hears(agentClient);
  const { nameplate } = await agentClient.createSession({ kind: 'easy-connect' });
  const agent = new AgentSession({ client: agentClient, name: 'Ada Lovelace', secrets });
  const expertClient = newClient();
  heard.hears(expertClient);
  await expertClient.joinSession(nameplate);
  const expert = new ExpertSession({ client: expertClient, name: 'Grace Hopper', secrets });
  heard.hears(agent, expert);
  await heard.until(() => agent.phase === 'deciding' && expert.phase === 'awaiting-approval', 'the expert to be presented');
  return { agent, agentClient, expert, expertClient, relay };
}

/** Sends from a client directly, past its session's own rules: what a side that broke them would send. */
export const sendRaw = (client: RelayClient, message: AssistMessage) => client.send(encodeAssistMessage(message));
