/**
 * TensorFlow's start-up chatter, which no setting silences once libtensorflow 2.21 loads (neither
 * TF_CPP_MIN_LOG_LEVEL nor TF_ENABLE_ONEDNN_OPTS): absl's notice that it logs to stderr before it
 * is initialised, and its informational lines
 * (`I0000 00:00:1796203210.368010    2866 port.cc:153] oneDNN custom operations are on...`).
 * Its warnings and errors (`W…`, `E…`, `F…`) are not chatter.
 */
const TENSORFLOW_NOISE =
  /^(WARNING: All log messages before absl::InitializeLog\(\) is called are written to STDERR|I\d{4} [\d:.]+\s+\d+ \S+:\d+\] )/

/**
 * Whether a line a process that loaded native TensorFlow wrote to stderr is TensorFlow's start-up
 * chatter (see TENSORFLOW_NOISE): something to leave out of what a person reads.
 */
export function isTensorFlowNoise(line: string): boolean {
  return TENSORFLOW_NOISE.test(line)
}
