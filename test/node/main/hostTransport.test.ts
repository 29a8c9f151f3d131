import { PassThrough } from 'node:stream'

import { describe, expect, it } from 'vitest'

import {
  childTransport,
  forwardLines,
  type HostChild,
  type HostExit,
} from '../../../src/main/services/hostTransport'

/** Collects what is written to it. */
function sink(): PassThrough & { text: () => string } {
  const stream = new PassThrough()
  let text = ''
  stream.on('data', (chunk: Buffer) => (text += chunk.toString('utf8')))
  return Object.assign(stream, { text: () => text })
}

const tick = () => new Promise((r) => setImmediate(r))

describe('forwardLines', () => {
  it('prefixes whole lines, even when a chunk ends inside a line or inside a character', async () => {
    const input = new PassThrough()
    const out = sink()
    forwardLines(input, out, '[engine] ')
    const bytes = Buffer.from('h\u00e9llo\nwor', 'utf8')
    input.write(bytes.subarray(0, 2)) // 'h' and the first byte of 'é'
    input.write(bytes.subarray(2))
    input.write('ld\n')
    input.end()
    await tick()
    expect(out.text()).toBe('[engine] h\u00e9llo\n[engine] world\n')
  })

  it("drops TensorFlow's start-up chatter and keeps its warnings, errors and everything else", async () => {
    const input = new PassThrough()
    const out = sink()
    const seen: string[] = []
    forwardLines(input, out, '[engine] ', (line) => seen.push(line))
    const lines = [
      'WARNING: All log messages before absl::InitializeLog() is called are written to STDERR',
      'I0000 00:00:1796203210.368010    2866 port.cc:153] oneDNN custom operations are on.',
      'W0000 00:00:1796203210.368010    2866 cpu_feature_guard.cc:2] could not use AVX512',
      'E0000 00:00:1796203210.368010    2866 op_kernel.cc:1] OOM when allocating tensor',
      'I0000 is how an info line starts, but this one is ours',
      'engine host ready',
    ]
    input.end(lines.join('\n') + '\n')
    await tick()
    expect(out.text()).toBe(
      lines
        .slice(2)
        .map((l) => `[engine] ${l}\n`)
        .join(''),
    )
    expect(seen).toEqual(lines)
  })
})

describe('childTransport', () => {
  it('holds messages until the process spawned and reports its exit once, with its last error line', async () => {
    const stderr = new PassThrough()
    let spawn: () => void = () => undefined
    let exit: (e: HostExit) => void = () => undefined
    const posted: unknown[] = []
    const child: HostChild = {
      pid: 42,
      stdout: null,
      stderr,
      post: (m) => posted.push(m),
      kill: () => undefined,
      onSpawn: (l) => (spawn = l),
      onMessage: () => undefined,
      onExit: (l) => (exit = l),
    }
    const transport = childTransport(child, null)
    const exits: HostExit[] = []
    transport.onExit((e) => exits.push(e))
    transport.send({ type: 'cancel', id: 1 })
    expect(posted).toEqual([])
    spawn()
    expect(posted).toEqual([{ type: 'cancel', id: 1 }])
    stderr.write('Hi, looks like you are running TensorFlow.js in Node.js\n')
    stderr.write(
      'FATAL ERROR: Reached heap limit Allocation failed - JavaScript heap out of memory\n',
    )
    stderr.write(' 1: 0xb8ced1 node::Abort() [node]\n')
    await tick()
    exit({ code: 134 })
    exit({ code: 134 })
    await tick()
    expect(exits).toEqual([
      {
        code: 134,
        lastOutput:
          'FATAL ERROR: Reached heap limit Allocation failed - JavaScript heap out of memory',
      },
    ])
    transport.send({ type: 'cancel', id: 2 })
    expect(posted).toHaveLength(1)
  })
})
