import type { LoadedSpec, OpenApiDocument } from './openapi';
import { resolveLocalRef } from './openapi';

type Schema = Record<string, unknown>;

const escapeHtml = (text: string) =>
  text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');

/** The little Markdown the contract's descriptions use: paragraphs, lists, `code` and **bold**. */
function markdown(text: string | undefined): string {
  if (!text) return '';
  const inline = (s: string) =>
    escapeHtml(s)
      .replace(/`([^`]+)`/g, '<code>$1</code>')
      .replace(/\*\*([^*]+)\*\*/g, '<strong>$1</strong>');
  return text
    .trim()
    .split(/\n\s*\n/)
    .map((block) => {
      const lines = block.split('\n');
      if (lines.every((l) => /^\s*[-*] /.test(l)))
        return `<ul>${lines.map((l) => `<li>${inline(l.replace(/^\s*[-*] /, ''))}</li>`).join('')}</ul>`;
      return `<p>${inline(block.replace(/\n/g, ' '))}</p>`;
    })
    .join('\n');
}

const refName = (ref: string) => ref.split('/').pop() ?? ref;

function typeOf(schema: Schema | boolean | undefined): string {
  if (schema === undefined || schema === true) return 'any';
  if (schema === false) return 'nothing';
  if (typeof schema.$ref === 'string') return `<a href="#schema-${refName(schema.$ref)}">${refName(schema.$ref)}</a>`;
  if ('const' in schema) return `<code>${escapeHtml(JSON.stringify(schema.const))}</code>`;
  if (Array.isArray(schema.enum))
    return schema.enum.map((v) => `<code>${escapeHtml(JSON.stringify(v))}</code>`).join(' | ');
  for (const combinator of ['oneOf', 'anyOf', 'allOf'] as const) {
    if (Array.isArray(schema[combinator]))
      return (schema[combinator] as Schema[]).map(typeOf).join(combinator === 'allOf' ? ' &amp; ' : ' | ');
  }
  const types = Array.isArray(schema.type) ? (schema.type as string[]) : schema.type ? [schema.type as string] : [];
  return types.map((t) => (t === 'array' ? `array of ${typeOf(schema.items as Schema)}` : t)).join(' | ') || 'object';
}

const CONSTRAINTS = [
  'format',
  'pattern',
  'minimum',
  'maximum',
  'exclusiveMinimum',
  'minLength',
  'maxLength',
  'minItems',
  'maxItems',
  'default',
];

function constraints(schema: Schema): string {
  return CONSTRAINTS.filter((k) => k in schema)
    .map((k) => `${k}: <code>${escapeHtml(JSON.stringify(schema[k]))}</code>`)
    .join(', ');
}

function propertiesTable(document: OpenApiDocument, schema: Schema): string {
  const properties = { ...((schema.properties as Record<string, Schema>) ?? {}) };
  const required = new Set((schema.required as string[]) ?? []);
  for (const part of (schema.allOf as Schema[]) ?? []) {
    const resolved = resolveLocalRef<Schema>(document, part);
    Object.assign(properties, resolved.properties as Record<string, Schema> | undefined);
    for (const r of (resolved.required as string[]) ?? []) required.add(r);
  }
  const rows = Object.entries(properties).filter(([, s]) => s !== (true as unknown));
  if (!rows.length) return '';
  return `<table><tr><th>field</th><th>type</th><th>required</th><th>notes</th></tr>${rows
    .map(
      ([name, s]) =>
        `<tr><td><code>${escapeHtml(name)}</code></td><td>${typeOf(s)}</td><td>${required.has(name) ? 'yes' : ''}</td><td>${markdown(s.description as string)} ${constraints(s)}</td></tr>`,
    )
    .join('')}</table>`;
}

export function renderReferencePage(spec: LoadedSpec): string {
  const { document, operations } = spec;
  const info = document.info as { title: string; version: string; description?: string };
  const tags = document.tags ?? [];
  const sections = tags
    .map((tag) => {
      const ops = operations.filter((op) => op.tags.includes(tag.name));
      return `<h2 id="tag-${tag.name}">${escapeHtml(tag.name)}</h2>${markdown(tag.description)}${ops
        .map((op) => {
          const params = op.parameters.length
            ? `<h4>Parameters</h4><table><tr><th>name</th><th>in</th><th>type</th><th>required</th><th>notes</th></tr>${op.parameters
                .map(
                  (p) =>
                    `<tr><td><code>${escapeHtml(p.name)}</code></td><td>${p.in}</td><td>${typeOf(p.schema)}</td><td>${p.required ? 'yes' : ''}</td><td>${markdown(p.description)} ${constraints(p.schema ?? {})}</td></tr>`,
                )
                .join('')}</table>`
            : '';
          const pathItem = document.paths[op.path]![op.method] as Schema;
          const body = pathItem.requestBody ? resolveLocalRef<Schema>(document, pathItem.requestBody) : undefined;
          const bodySchema = (body?.content as Record<string, { schema: Schema }> | undefined)?.['application/json']
            ?.schema;
          const responses = Object.entries(op.responses)
            .map(([status, r]) => {
              const resolved = resolveLocalRef<Schema>(document, r);
              const content = resolved.content as Record<string, { schema: Schema }> | undefined;
              const media = content
                ? Object.entries(content)
                    .map(([type, c]) => `${type}: ${typeOf(c.schema)}`)
                    .join('; ')
                : '';
              return `<tr><td>${status}</td><td>${markdown(resolved.description as string)}</td><td>${media}</td></tr>`;
            })
            .join('');
          return `<section class="op" id="op-${op.operationId}"><h3><span class="method ${op.method}">${op.method.toUpperCase()}</span> <code>${escapeHtml(op.path)}</code></h3>
<p><strong>${escapeHtml(op.summary)}</strong> &middot; <code>${op.operationId}</code> &middot; roles: ${op.roles.map((r) => `<span class="role">${r}</span>`).join(' ')}${op.requiresUnscopedKey ? ' (key not limited to trials)' : ''}</p>
${markdown(op.description)}${params}${bodySchema ? `<h4>Request body</h4><p>${typeOf(bodySchema)}</p>` : ''}<h4>Responses</h4><table><tr><th>status</th><th>meaning</th><th>body</th></tr>${responses}</table></section>`;
        })
        .join('\n')}`;
    })
    .join('\n');
  const schemas = Object.entries((document.components.schemas ?? {}) as Record<string, Schema>)
    .map(
      ([name, schema]) =>
        `<section id="schema-${name}"><h3>${name}</h3>${markdown(schema.description as string)}<p>${typeOf({ ...schema, description: undefined, properties: undefined, allOf: schema.properties ? undefined : schema.allOf })}</p>${propertiesTable(document, schema)}</section>`,
    )
    .join('\n');
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>${escapeHtml(info.title)} ${escapeHtml(info.version)}</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<style>body{font:15px/1.5 system-ui,sans-serif;max-width:70rem;margin:2rem auto;padding:0 1rem;color:#1b1b1b}
code{font:13px ui-monospace,monospace;background:#f3f3f3;padding:0 .2em}table{border-collapse:collapse;margin:.5rem 0;width:100%}
td,th{border:1px solid #ddd;padding:.25rem .5rem;text-align:left;vertical-align:top}section.op{border-top:1px solid #ccc;margin-top:1.5rem}
.method{font-weight:700;padding:0 .4em;border-radius:3px;color:#fff}.get{background:#2b6cb0}.post{background:#2f855a}.patch{background:#b7791f}.delete{background:#c53030}.put{background:#6b46c1}
.role{background:#edf2f7;border-radius:3px;padding:0 .3em;margin-right:.2em}@media print{.method{color:#000;background:none}}</style></head>
<body><h1>${escapeHtml(info.title)} <small>${escapeHtml(info.version)}</small></h1>${markdown(info.description)}
<p>Machine-readable contract: <a href="/openapi.json">/openapi.json</a>.</p>
<nav><ul>${tags.map((t) => `<li><a href="#tag-${t.name}">${escapeHtml(t.name)}</a></li>`).join('')}<li><a href="#schemas">schemas</a></li></ul></nav>
${sections}<h2 id="schemas">Schemas</h2>${schemas}</body></html>`;
}
