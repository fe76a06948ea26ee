/** A tiny XML writer for AWS responses, and the XML reader used for Route 53 request bodies. */
import { XMLParser } from "fast-xml-parser";

/** A list serialised with an explicit item element name (`<Tags><Tag>…</Tag></Tags>`). */
export class XList {
  constructor(
    readonly itemName: string,
    readonly items: readonly unknown[],
  ) {}
}

export const xlist = (itemName: string, items: readonly unknown[]): XList => new XList(itemName, items);

export function esc(s: string): string {
  return s.replace(/[&<>"']/g, (c) =>
    c === "&" ? "&amp;" : c === "<" ? "&lt;" : c === ">" ? "&gt;" : c === '"' ? "&quot;" : "&apos;",
  );
}

/**
 * Serialise `value` as element `name`. Arrays use `defaultItem` as the item element name (`item` for
 * EC2, `member` for awsQuery); `XList` overrides it. `undefined`/`null` members are omitted.
 */
export function toXml(name: string, value: unknown, defaultItem: string): string {
  if (value === undefined || value === null) return "";
  if (value instanceof XList) {
    const inner = value.items.map((v) => toXml(value.itemName, v, defaultItem)).join("");
    return `<${name}>${inner}</${name}>`;
  }
  if (Array.isArray(value)) {
    const inner = value.map((v) => toXml(defaultItem, v, defaultItem)).join("");
    return `<${name}>${inner}</${name}>`;
  }
  if (value instanceof Date) return `<${name}>${value.toISOString()}</${name}>`;
  if (typeof value === "object") {
    return `<${name}>${children(value as Record<string, unknown>, defaultItem)}</${name}>`;
  }
  return `<${name}>${esc(String(value))}</${name}>`;
}

export function children(obj: Record<string, unknown>, defaultItem: string): string {
  let out = "";
  for (const [k, v] of Object.entries(obj)) out += toXml(k, v, defaultItem);
  return out;
}

const parser = new XMLParser({
  ignoreAttributes: true,
  parseTagValue: false,
  trimValues: true,
  removeNSPrefix: true,
  ignoreDeclaration: true,
});

export type XmlNode = string | { [k: string]: XmlNode | XmlNode[] };

/** Parse an XML document; repeated elements become arrays, single ones stay objects (see `asArray`). */
export function parseXml(text: string): Record<string, XmlNode> {
  if (!text.trim()) return {};
  return parser.parse(text) as Record<string, XmlNode>;
}

export function asArray<T>(v: T | T[] | undefined | ""): T[] {
  if (v === undefined || v === "") return [];
  return Array.isArray(v) ? v : [v];
}
