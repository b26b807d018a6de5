/**
 * Text from outside (file names, parser messages) as it goes into an error
 * message. The CLI prints a message as one line, and a file name may hold a
 * line break, so such names are shown JSON-quoted rather than raw.
 */

const CONTROL = /[\u0000-\u001f\u007f-\u009f]/;

/** A file or folder name for a message: as is, or JSON-quoted if it holds control characters. */
export function shown(name: string): string {
  return CONTROL.test(name) ? JSON.stringify(name) : name;
}

/** A parser's message on one line (V8's JSON.parse quotes the input, line breaks included). */
export function oneLine(text: string): string {
  return text.replace(/\s*[\r\n]+\s*/g, ' ').trim();
}
