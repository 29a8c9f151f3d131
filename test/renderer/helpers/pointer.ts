/** A mouse pointer event at (x, y) with the button down, as the pad listens for. */
export function pointer(type: string, x: number, y: number): PointerEvent {
  return new PointerEvent(type, {
    clientX: x,
    clientY: y,
    pointerId: 1,
    pointerType: 'mouse',
    button: 0,
    buttons: 1,
    bubbles: true,
    cancelable: true,
  })
}

/** One stroke through `points` on `pad`: down, a move per point, up. */
export function stroke(pad: Element, points: [number, number][]): void {
  pad.dispatchEvent(pointer('pointerdown', ...points[0]!))
  for (const p of points.slice(1)) pad.dispatchEvent(pointer('pointermove', ...p))
  pad.dispatchEvent(pointer('pointerup', ...points.at(-1)!))
}
