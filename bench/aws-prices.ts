// What a relayed message costs on AWS, read from docs/cost-and-limits.md: the prices there are the one
// place they are kept (with their date and sources), so the benchmark's dollars follow the document.
import { readFile } from 'node:fs/promises';

const costDoc = new URL('../docs/cost-and-limits.md', import.meta.url);

export interface AwsPrices {
  /** API Gateway WebSocket messages, in and out, per 32 KB unit. */
  perMessage: number;
  perConnectionMinute: number;
  perLambdaRequest: number;
  perLambdaGbSecond: number;
  /** The frame function's memory and its billed time per warm invocation, as the document assumes them. */
  frameFunctionGb: number;
  frameFunctionSeconds: number;
}

/** API Gateway meters WebSocket messages in 32 KB units. */
export const METERING_UNIT_BYTES = 32 * 1024;

export async function readAwsPrices(): Promise<AwsPrices> {
  const text = await readFile(costDoc, 'utf8');
  const price = (item: string, unit: RegExp): number => {
    const row = text.split('\n').find((line) => line.startsWith(`| ${item} |`) || line.startsWith(`| ${item} (`));
    const match = row && new RegExp(`\\$([0-9.]+) ${unit.source}`).exec(row);
    if (!match) throw new Error(`docs/cost-and-limits.md has no price for "${item}" (${unit.source}) in its "Prices used" table`);
    return Number(match[1]);
  };
  const frameFunction = /frame function \(([\d,]+) MB, arm64\) bills about (\d+) ms per warm invocation/.exec(text);
  if (!frameFunction) throw new Error('docs/cost-and-limits.md no longer says what the frame function bills per invocation ("frame function (N MB, arm64) bills about N ms per warm invocation")');
  return {
    perMessage: price('API Gateway WebSocket messages', /per million/) / 1e6,
    perConnectionMinute: price('API Gateway WebSocket connection minutes', /per million/) / 1e6,
    perLambdaRequest: price('Lambda requests', /per million/) / 1e6,
    perLambdaGbSecond: price('Lambda duration, arm64', /per GB-second/),
    frameFunctionGb: Number(frameFunction[1]!.replace(',', '')) / 1024,
    frameFunctionSeconds: Number(frameFunction[2]) / 1000,
  };
}

export interface RelayedTraffic {
  /** Client messages the relay received: each is a Lambda invocation. */
  messagesIn: number;
  /** Their 32 KB metering units. */
  unitsIn: number;
  /** Messages the relay sent to clients (forwarded frames, replies, notices), in 32 KB units. */
  unitsOut: number;
}

/** Dollars for `traffic` carried over `seconds` by a session of two connections, scaled to one hour. */
export function dollarsPerSessionHour(prices: AwsPrices, traffic: RelayedTraffic, seconds: number): number {
  const invocation = prices.perLambdaRequest + prices.frameFunctionGb * prices.frameFunctionSeconds * prices.perLambdaGbSecond;
  const perWindow = (traffic.unitsIn + traffic.unitsOut) * prices.perMessage + traffic.messagesIn * invocation;
  return (perWindow * 3600) / seconds + 2 * 60 * prices.perConnectionMinute;
}
