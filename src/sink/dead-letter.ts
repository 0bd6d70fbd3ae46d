// Where an undecodable frame goes: the dead-letter message of SPEC section 5 (the original bytes and key, the reason and where the frame was read).
import type { Message } from '../kafka/client.js';
import type { Header } from './transactional-producer.js';

/** The SPEC section 5 headers of a dead-lettered message: the reason, and the source topic, partition and offset. */
export function deadLetterHeaders(m: Message, reason: string): Header[] {
  return [
    { 'lux.error': reason },
    { 'lux.source.topic': m.topic },
    { 'lux.source.partition': String(m.partition) },
    { 'lux.source.offset': String(m.offset) },
  ];
}

/** The dead letter's value: the frame bytes exactly as read (an empty message stays empty). */
export function deadLetterValue(m: Message): Buffer {
  return m.value ?? EMPTY;
}

const EMPTY = Buffer.alloc(0);
