import { Box, Text } from 'ink';
import { useRef, useState } from 'react';
import type { ParamDef } from '../../core/checklist/types.js';
import { coerceParam } from '../../core/params.js';
import { useUi, type ScreenKeys } from '../context.js';
import { ScreenFrame } from '../frame.js';
import { clamp, screenLine, windowAround, wrap } from '../text.js';
import { useTheme } from '../theme.js';
import type { ChecklistEntry } from '../types.js';

/** One field's problem, or null: the same rules `run -p` applies (core/params), checked as the operator types. */
export function checkField(name: string, def: ParamDef, raw: string): string | null {
  if (raw.trim() === '') return def.required ? `${name} is required${def.description ? ` (${def.description})` : ''}` : null;
  const r = coerceParam(name, def, raw);
  return r.ok ? null : r.message;
}

function initial(def: ParamDef): string {
  if (def.default !== undefined) return String(def.default);
  if (def.type === 'enum' && def.choices?.length) return def.required ? '' : '';
  if (def.type === 'boolean') return 'false';
  return '';
}

function cycle(def: ParamDef, value: string, dir: 1 | -1): string {
  const choices = def.type === 'boolean' ? ['false', 'true'] : (def.choices ?? []).map(String);
  if (!choices.length) return value;
  const i = choices.indexOf(value);
  return choices[(i + dir + choices.length) % choices.length] ?? choices[0];
}

/** The parameters of a checklist, asked before it starts: defaults filled in, each value checked, nothing starts until all are good. */
export function ParamForm({ checklist }: { checklist: ChecklistEntry }) {
  const ui = useUi();
  const t = useTheme();
  const names = Object.keys(checklist.params);
  const [values, setValues] = useState<Record<string, string>>(() =>
    Object.fromEntries(names.map((n) => [n, initial(checklist.params[n])])),
  );
  const [errors, setErrors] = useState<Record<string, string | null>>({});
  const [field, setField] = useState(0);
  const [starting, setStarting] = useState(false);
  const name = names[field];
  const def = name ? checklist.params[name] : undefined;
  const choiceField = def && (def.type === 'enum' || def.type === 'boolean');

  // Values change through `valuesRef` as well as state: keys can arrive faster than renders, and each must see the
  // value the one before it made.
  const valuesRef = useRef(values);
  valuesRef.current = values;
  const set = (change: (old: string) => string) => {
    if (!name || !def) return;
    const value = change(valuesRef.current[name] ?? '');
    valuesRef.current = { ...valuesRef.current, [name]: value };
    setValues(valuesRef.current);
    // A complaint goes away as soon as the value is good; it only appears on leaving the field or submitting.
    if (errors[name]) setErrors((e) => ({ ...e, [name]: checkField(name, def, value) }));
  };

  const leave = (to: number) => {
    if (name && def) setErrors((e) => ({ ...e, [name]: checkField(name, def, values[name]) }));
    setField(clamp(to, 0, Math.max(0, names.length - 1)));
  };

  const submit = () => {
    if (starting) return;
    const found = Object.fromEntries(names.map((n) => [n, checkField(n, checklist.params[n], values[n])]));
    setErrors(found);
    const bad = names.findIndex((n) => found[n]);
    if (bad >= 0) {
      setField(bad);
      return ui.flash(`${names.filter((n) => found[n]).length} value(s) to fix before ${checklist.id} can start`, 'error');
    }
    setStarting(true);
    ui.flash(`starting ${checklist.id}…`);
    const given = Object.fromEntries(names.filter((n) => values[n].trim() !== '').map((n) => [n, values[n].trim()]));
    ui.services.start(checklist.id, given).then(
      (controls) => ui.go({ name: 'session', controls }),
      (e: Error) => {
        setStarting(false);
        ui.flash(e.message, 'error');
      },
    );
  };

  const keys: ScreenKeys = {
    layer: 'form',
    mode: 'FORM',
    // A text field takes every character typed (q, ?, j are text there); ctrl-c quits.
    typing: !!def && !choiceField,
    available: (c) => {
      switch (c) {
        case 'form.choice-next':
        case 'form.choice-prev':
          return !!choiceField;
        case 'form.erase':
          return !!def && !choiceField && (values[name] ?? '') !== '';
        // There is no field after the last or before the first.
        case 'form.next':
          return field < names.length - 1;
        case 'form.prev':
          return field > 0;
        default:
          return true;
      }
    },
    onCommand: (c) => {
      switch (c) {
        case 'form.next':
          return leave(field + 1);
        case 'form.prev':
          return leave(field - 1);
        case 'form.choice-next':
          return def && set((old) => cycle(def, old, 1));
        case 'form.choice-prev':
          return def && set((old) => cycle(def, old, -1));
        case 'form.erase':
          return set((old) => old.slice(0, -1));
        case 'form.submit':
          return submit();
        case 'form.cancel':
          return ui.go({ name: 'home' });
        default:
          // Another layer's command: the root handler never routes it to this screen.
          break;
      }
    },
    onText: (text) => {
      if (!def || choiceField) return;
      set((old) => old + text.replace(/[\r\n\t]/g, ''));
    },
  };

  const width = ui.width;
  const labelWidth = Math.min(24, Math.max(8, ...names.map((n) => n.length + 2)));
  const rowsPer = 2;
  const room = Math.max(1, Math.floor((ui.height - 4) / rowsPer));
  const w = windowAround(names.length, field, room);
  return (
    <ScreenFrame keys={keys}>
      <Text bold wrap="truncate-end">
        Start {screenLine(checklist.title)} <Text color={t.muted}>[{screenLine(checklist.id)}]</Text>
      </Text>
      <Text color={t.muted} wrap="truncate-end">
        {checklist.description
          ? wrap(screenLine(checklist.description), width)[0]
          : names.length
            ? 'Its parameters (defaults filled in):'
            : 'This checklist takes no parameters: ↵ starts it.'}
      </Text>
      <Text> </Text>
      {names.slice(w.start, w.end).map((n, k) => {
        const i = w.start + k;
        const d = checklist.params[n];
        const active = i === field;
        const v = values[n] ?? '';
        const shown = d.secret ? '•'.repeat(v.length) : screenLine(v);
        const kind =
          d.type === 'enum'
            ? `one of ${(d.choices ?? []).join(' | ')} (←/→)`
            : d.type === 'boolean'
              ? 'yes/no: true | false (←/→)'
              : d.type === 'semver'
                ? 'a version like 2.4.0'
                : d.type;
        const err = errors[n];
        return (
          <Box key={n} flexDirection="column" height={2} width={width}>
            <Text wrap="truncate-end">
              <Text bold={active} inverse={active}>
                {(active ? '› ' : '  ') + n.padEnd(labelWidth)}
              </Text>{' '}
              <Text underline>{shown || ' '}</Text>
              {active && !(d.type === 'enum' || d.type === 'boolean') ? '█' : ''}
              <Text color={t.muted}>
                {'  '}
                {d.required ? 'required · ' : ''}
                {kind}
                {d.secret ? ' · secret (never stored)' : ''}
              </Text>
            </Text>
            <Text wrap="truncate-end" color={err ? t.danger : t.muted}>
              {' '.repeat(labelWidth + 3)}
              {err ? `✖ ${screenLine(err)}` : screenLine(d.description ?? '')}
            </Text>
          </Box>
        );
      })}
    </ScreenFrame>
  );
}
