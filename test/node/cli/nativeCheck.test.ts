import { describe, expect, it } from 'vitest'

import { lastErrorLine } from '../../../src/cli/commands/native'

describe('lastErrorLine (a native check process that printed no answer)', () => {
  it('quotes its last line without the inklab prefix, skipping TensorFlow’s start-up chatter', () => {
    const chatter = [
      'WARNING: All log messages before absl::InitializeLog() is called are written to STDERR',
      'I0000 00:00:1796203210.368010    2866 port.cc:153] oneDNN custom operations are on.',
    ]
    expect(
      lastErrorLine(['inklab: error: libtensorflow.so.2: cannot open', ...chatter, ''].join('\n')),
    ).toBe('libtensorflow.so.2: cannot open')
    // A crash that wrote nothing after loading TensorFlow has nothing to quote.
    expect(lastErrorLine(chatter.join('\n') + '\n')).toBeUndefined()
    // TensorFlow's own warnings and errors are quoted.
    expect(lastErrorLine('W0000 00:00:1.5    1 cpu.cc:2] no AVX512\n')).toBe(
      'W0000 00:00:1.5    1 cpu.cc:2] no AVX512',
    )
  })
})
