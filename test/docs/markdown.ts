// Reading Markdown the way GitHub and npm render it, for the docs tests: fenced code blocks, links and heading
// anchors. Only what the docs use: ``` fences, inline links `[text](target)`, ATX headings.

/** The lines outside ``` fences, with inline code spans blanked (a link inside backticks is not a link). */
function prose(markdown: string): string[] {
  let fenced = false
  return markdown.split('\n').flatMap((line) => {
    if (line.startsWith('```')) {
      fenced = !fenced
      return []
    }
    return fenced ? [] : [line.replace(/`[^`]*`/g, '``')]
  })
}

/** Every inline link target, in order. */
export function linkTargets(markdown: string): string[] {
  return (
    prose(markdown.replace(/\]\(\s*\n\s*/g, ']('))
      .join('\n')
      .match(/\]\([^)\s]+\)/g)
      ?.map((link) => link.slice(2, -1)) ?? []
  )
}

/** `true` for a link into the package itself rather than to a site. */
export const isRelative = (target: string): boolean => !/^[a-z][a-z0-9+.-]*:/i.test(target)

/** The anchors of a file's headings, as GitHub makes them: lower case, punctuation dropped, spaces to `-`, repeats numbered. */
export function headingAnchors(markdown: string): Set<string> {
  const seen = new Map<string, number>()
  const anchors = new Set<string>()
  for (const line of markdown.split('\n').filter((l, i, all) => /^#{1,6} /.test(l) && !insideFence(all, i))) {
    const base = line
      .replace(/^#+ /, '')
      .toLowerCase()
      .replace(/[^\p{L}\p{N}\s_-]/gu, '')
      .replace(/\s/g, '-')
    const n = seen.get(base) ?? 0
    seen.set(base, n + 1)
    anchors.add(n === 0 ? base : `${base}-${n}`)
  }
  return anchors
}

function insideFence(lines: string[], index: number): boolean {
  return lines.slice(0, index).filter((l) => l.startsWith('```')).length % 2 === 1
}

export interface CodeBlock {
  lang: string
  code: string
  /** 1-based line of the opening fence, for messages. */
  line: number
}

/** Every fenced block with its language. */
export function codeBlocks(markdown: string): CodeBlock[] {
  const blocks: CodeBlock[] = []
  const lines = markdown.split('\n')
  for (let i = 0; i < lines.length; i++) {
    const open = /^```(\S*)/.exec(lines[i]!)
    if (!open) continue
    const end = lines.findIndex((l, j) => j > i && l.startsWith('```'))
    blocks.push({ lang: open[1]!, code: lines.slice(i + 1, end).join('\n'), line: i + 1 })
    i = end
  }
  return blocks
}
