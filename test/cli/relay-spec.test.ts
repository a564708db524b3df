/** `--relay` values as `thalo-runtime` reads them: a broker URL whose query parameters are the relay's options. */
import { describe, expect, it } from 'vitest';
import { RelaySpecError, parseRelaySpec } from '../../src/cli/relay-spec.js';

describe('parseRelaySpec', () => {
  it('takes a plain URL as it is, checkpointed under relay:<url>', () => {
    expect(parseRelaySpec('redis://127.0.0.1:6379')).toEqual({ url: 'redis://127.0.0.1:6379', name: 'relay:redis://127.0.0.1:6379' });
  });

  it('takes the options off the URL before it reaches the broker client', () => {
    const spec =
      'nats://127.0.0.1:4222?stream=ORDERS&template=orders.{category}.{event}&format=cloudevents&createStream=false&batchSize=500';
    expect(parseRelaySpec(spec)).toEqual({
      url: 'nats://127.0.0.1:4222',
      name: `relay:${spec}`,
      streamName: 'ORDERS',
      template: 'orders.{category}.{event}',
      format: 'cloudevents',
      createStream: false,
      batchSize: 500,
    });
    expect(parseRelaySpec('redis://127.0.0.1:6379/2?maxLen=1000&name=audit')).toEqual({
      url: 'redis://127.0.0.1:6379/2',
      name: 'audit',
      maxLen: 1000,
    });
  });

  it("applies the --relay-* defaults, and the URL's own parameters win", () => {
    const defaults = { template: 'all_{category}', format: 'cloudevents' as const, streamName: 'EVERYTHING', maxLen: 10 };
    expect(parseRelaySpec('redis://127.0.0.1:6379?template=mine', defaults)).toMatchObject({
      template: 'mine',
      format: 'cloudevents',
      maxLen: 10,
    });
    expect(parseRelaySpec('nats://127.0.0.1:4222', { template: undefined })).toEqual({
      url: 'nats://127.0.0.1:4222',
      name: 'relay:nats://127.0.0.1:4222',
    });
  });

  it('refuses what it cannot use, naming the parameter', () => {
    const refusal = (spec: string) => {
      try {
        parseRelaySpec(spec);
      } catch (error) {
        expect(error).toBeInstanceOf(RelaySpecError);
        return (error as Error).message;
      }
      throw new Error(`${spec} was accepted`);
    };
    expect(refusal('localhost:6379')).toMatch(/unsupported scheme|not a URL/);
    expect(refusal('http://127.0.0.1:6379')).toMatch(/unsupported scheme http:/);
    expect(refusal('redis://127.0.0.1:6379?maxlen=5')).toMatch(/unknown parameter "maxlen"/);
    expect(refusal('redis://127.0.0.1:6379?maxLen=0')).toMatch(/maxLen must be a positive integer/);
    expect(refusal('redis://127.0.0.1:6379?format=xml')).toMatch(/format must be native or cloudevents/);
    expect(refusal('redis://127.0.0.1:6379?stream=S')).toMatch(/NATS relays only/);
    expect(refusal('nats://127.0.0.1:4222?maxLen=5')).toMatch(/Redis relays only/);
    expect(refusal('nats://127.0.0.1:4222?createStream=yes')).toMatch(/createStream must be true or false/);
    expect(refusal('redis://127.0.0.1:6379?template=')).toMatch(/template must not be empty/);
  });
});
