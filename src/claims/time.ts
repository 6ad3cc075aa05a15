import { optionError } from '../option-error.js'
const UNITS: Record<string, number> = {
  s: 1,
  sec: 1,
  secs: 1,
  second: 1,
  seconds: 1,
  m: 60,
  min: 60,
  mins: 60,
  minute: 60,
  minutes: 60,
  h: 3600,
  hr: 3600,
  hrs: 3600,
  hour: 3600,
  hours: 3600,
  d: 86400,
  day: 86400,
  days: 86400,
}
const DURATION = /^(\d+(?:\.\d+)?) *([a-z]*)$/

/** Parses `30`, `'30s'`, `'2 min'`, `'1h'` into seconds; throws a TypeError naming `option`. */
export function parseSeconds(value: number | string, option: string): number {
  if (typeof value === 'number') {
    if (Number.isFinite(value) && value >= 0) return value
  } else if (typeof value === 'string') {
    const match = DURATION.exec(value.trim().toLowerCase())
    const unit = match && UNITS[match[2] || 's']
    if (match && unit) return Number(match[1]) * unit
  }
  throw optionError(option, "must be a non-negative number of seconds or a string like '30s'", { given: value })
}
