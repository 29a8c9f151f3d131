/** One line of a `<LineChart>`. */
export interface LineSeries {
  label: string
  data: readonly { x: number; y: number }[]
  /** A CSS colour or a CSS variable name (`--chart-1`), resolved against the theme. */
  color: string
  dashed?: boolean
  /** Draw a dot at each point (epoch series); batch series stay as plain lines. */
  points?: boolean
  width?: number
}
