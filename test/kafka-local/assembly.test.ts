// The local broker's classpath per Kafka version: the version asked for (or the pom's), where its jars go, and LUX_KAFKA_HOME used only when it holds that version.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { assembleLibs, defaultKafkaVersion, kafkaJarVersion, kafkaVersion, libsDirFor, majorOf } from '../../src/kafka-local/assembly.js';
import { STATE_DIR } from '../../src/paths.js';

function fakeHome(version: string): string {
  const home = fs.mkdtempSync(path.join(os.tmpdir(), 'lux-kafka-home-'));
  fs.mkdirSync(path.join(home, 'libs'));
  for (const jar of [`kafka_2.13-${version}.jar`, `kafka_2.13-${version}-test.jar`, `kafka-clients-${version}.jar`]) fs.writeFileSync(path.join(home, 'libs', jar), '');
  return home;
}

describe('local broker assembly', () => {
  it('defaults to the version kafka/pom.xml names, and checks a version given', () => {
    expect(defaultKafkaVersion()).toMatch(/^4\.\d+\.\d+$/);
    expect(kafkaVersion('3.9.1')).toBe('3.9.1');
    expect(() => kafkaVersion('3.9; rm -rf /')).toThrow(/expected a version such as 3\.9\.1/);
    expect(majorOf('3.9.1')).toBe(3);
  });

  it('keeps the default version in .lux/kafka/libs and others beside it', () => {
    expect(libsDirFor(defaultKafkaVersion())).toBe(path.join(STATE_DIR, 'kafka', 'libs'));
    expect(libsDirFor('3.9.1')).toBe(path.join(STATE_DIR, 'kafka-3.9.1', 'libs'));
  });

  it('reads the version of a distribution\'s kafka jar, not of its test jar', () => {
    expect(kafkaJarVersion(path.join(fakeHome('3.9.1'), 'libs'))).toBe('3.9.1');
    expect(kafkaJarVersion('/nonexistent')).toBeUndefined();
  });

  it('uses LUX_KAFKA_HOME when it holds the version asked for (or any, when none is asked for)', () => {
    const home = fakeHome('3.9.1');
    const progress = (): void => {};
    expect(assembleLibs({ kafkaHome: home, version: '3.9.1', progress })).toEqual({ libs: path.join(home, 'libs'), version: '3.9.1' });
    const saved = process.env.LUX_KAFKA_VERSION;
    delete process.env.LUX_KAFKA_VERSION;
    try {
      expect(assembleLibs({ kafkaHome: home, progress }).version).toBe('3.9.1');
    } finally {
      if (saved !== undefined) process.env.LUX_KAFKA_VERSION = saved;
    }
  });
});
