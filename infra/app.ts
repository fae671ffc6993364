import { App } from 'aws-cdk-lib';
import { RelayStack } from './relay-stack.js';

// No `env`: the stack is environment-agnostic, so synth needs no credentials and does no lookups;
// `cdk deploy` targets the account and region of the caller's AWS profile.
const app = new App();
new RelayStack(app, 'AssistRelay', {
  description: 'Assist Relay: end-to-end encrypted remote-assistance relay (API Gateway WebSockets, Lambda, DynamoDB)',
});
