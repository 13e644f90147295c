// Runs the daily and backfill state machines, as the stack fills them, with
// every ECS task replaced by the real convert binary (CONVERT_BINARY) over
// local folders, and checks the outcomes: yesterday and an explicit date
// write what a direct run writes; invalid input starts no task; exit status
// 2 is not retried, 75 is retried three times and then tried once more; a
// backfill of several items writes every record once and, with one corrupt
// object, fails in the Map with that item's cause.
//
// The interpreter below is this test's own: it implements the subset of the
// Amazon States Language the two machines use (no third-party one runs
// JSONata and Distributed Maps with a local task here: aws-local-stepfunctions
// has neither JSONata nor ItemReader, moto's needs a JVM for JSONata and
// never fails an ECS task). What it assumes of AWS, it assumes as
// jsonata.test.mjs does: the cause of States.TaskFailed is the ECS task
// description with Containers[].ExitCode and StopCode.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import path from 'node:path';

const require = createRequire(process.env.CONVERT_NODE_MODULES ? process.env.CONVERT_NODE_MODULES + '/' : import.meta.url);
const jsonata = require('jsonata');
const binary = process.env.CONVERT_BINARY;
const here = path.dirname(new URL(import.meta.url).pathname);
const testdata = path.join(here, '..', 'testdata', 'vpcflow');

const values = {
  Partition: 'aws-cn', Region: 'cn-north-1', AccountId: '123456789012', Cluster: 'convert-flowlogs',
  TaskDefinition: 'arn:aws-cn:ecs:cn-north-1:123456789012:task-definition/convert-flowlogs:1', Kind: 'flowlogs',
  OutputBucket: 'dst', OutputPrefix: 'flowlogs/', SubnetIds: 'subnet-1,subnet-2', SecurityGroupIds: 'sg-1',
  AssignPublicIp: 'DISABLED', LogGroup: '/ecs/convert-flowlogs', BackfillItemBytes: '1',
};
const machine = (file) => JSON.parse(readFileSync(path.join(here, file), 'utf8').replace(/\$\{([A-Za-z]+)\}/g, (m, name) => {
  assert.ok(name in values, `no value for ${m}`);
  return values[name];
}));

class StatesError extends Error {
  constructor(error, cause) { super(`${error}: ${cause}`); this.error = error; this.cause = cause; }
}

// ---- JSONPath: paths, payload templates, intrinsics
function getPath(input, ctx, p) {
  let v = input;
  let rest = p;
  if (p.startsWith('$$')) { v = ctx; rest = p.slice(2); } else { rest = p.slice(1); }
  for (const part of rest.split('.').filter(Boolean)) {
    const m = part.match(/^([^[]+)((?:\[\d+\])*)$/);
    v = v?.[m[1]];
    for (const idx of m[2].matchAll(/\[(\d+)\]/g)) v = v?.[Number(idx[1])];
    if (v === undefined) throw new StatesError('States.Runtime', `path ${p} not found`);
  }
  return v;
}

function splitArgs(s) {
  const args = [];
  let depth = 0, quote = false, cur = '';
  for (let i = 0; i < s.length; i++) {
    const c = s[i];
    if (quote) {
      if (c === '\\') { cur += c + s[++i]; continue; }
      if (c === "'") quote = false;
      cur += c;
      continue;
    }
    if (c === "'") quote = true;
    if (c === '(') depth++;
    if (c === ')') depth--;
    if (c === ',' && depth === 0) { args.push(cur.trim()); cur = ''; continue; }
    cur += c;
  }
  if (cur.trim() !== '') args.push(cur.trim());
  return args;
}

function evalArg(a, input, ctx) {
  if (a.startsWith("'")) return a.slice(1, -1).replace(/\\(.)/g, '$1');
  if (a.startsWith('$')) return getPath(input, ctx, a);
  if (a.startsWith('States.')) return intrinsic(a, input, ctx);
  return JSON.parse(a);
}

function intrinsic(expr, input, ctx) {
  const m = expr.match(/^(States\.\w+)\(([\s\S]*)\)$/);
  if (!m) return getPath(input, ctx, expr);
  const args = splitArgs(m[2]).map((a) => evalArg(a, input, ctx));
  switch (m[1]) {
    case 'States.Array': return args;
    case 'States.StringSplit': return args[0].split(args[1]);
    case 'States.Format': {
      let i = 1;
      return args[0].replace(/\{\}/g, () => (typeof args[i] === 'string' ? args[i++] : JSON.stringify(args[i++])));
    }
  }
  throw new Error(`intrinsic ${m[1]} not implemented here`);
}

function template(t, input, ctx) {
  if (Array.isArray(t)) return t.map((e) => template(e, input, ctx));
  if (t === null || typeof t !== 'object') return t;
  const out = {};
  for (const [k, v] of Object.entries(t)) {
    if (k.endsWith('.$')) out[k.slice(0, -2)] = intrinsic(v, input, ctx);
    else out[k] = template(v, input, ctx);
  }
  return out;
}

function setPath(input, p, value) {
  if (p === null) return input;
  if (p === undefined || p === '$') return value;
  const out = structuredClone(input);
  const parts = p.slice(2).split('.');
  let o = out;
  for (const part of parts.slice(0, -1)) o = (o[part] ??= {});
  o[parts.at(-1)] = value;
  return out;
}

// ---- JSONata
async function jsonataValue(v, input, ctx) {
  if (typeof v === 'string' && v.startsWith('{%')) return jsonata(v.slice(2, -2)).evaluate({}, { states: { input, context: ctx } });
  if (Array.isArray(v)) return Promise.all(v.map((e) => jsonataValue(e, input, ctx)));
  if (v !== null && typeof v === 'object') {
    const out = {};
    for (const [k, e] of Object.entries(v)) out[k] = await jsonataValue(e, input, ctx);
    return out;
  }
  return v;
}

const matches = (list, error) => list.includes(error) || (list.includes('States.ALL') && error !== 'States.Runtime');

// ---- the interpreter
async function runScope(scope, input, ctx, env, language = scope.QueryLanguage ?? 'JSONPath') {
  let name = scope.StartAt;
  let data = input;
  for (;;) {
    const st = scope.States[name];
    const lang = st.QueryLanguage ?? language;
    env.trace.push(name);
    switch (st.Type) {
      case 'Pass':
        data = lang === 'JSONata' ? await jsonataValue(st.Output ?? '{% $states.input %}', data, ctx)
          : setPath(data, st.ResultPath, template(st.Parameters, data, ctx));
        break;
      case 'Choice': {
        let next = st.Default;
        for (const rule of st.Choices) {
          const ok = lang === 'JSONata' ? await jsonataValue(rule.Condition, data, ctx)
            : rule.BooleanEquals !== undefined && getPath(data, ctx, rule.Variable) === rule.BooleanEquals;
          if (ok) { next = rule.Next; break; }
        }
        assert.ok(next, `${name}: no choice matched and no Default`);
        name = next;
        continue;
      }
      case 'Wait':
        env.waits.push(st.SecondsPath ? getPath(data, ctx, st.SecondsPath) : st.Seconds);
        break;
      case 'Task': {
        const params = template(st.Parameters, data, ctx);
        let attempt = 0;
        for (;;) {
          try {
            await env.task(name, params);
            data = setPath(data, st.ResultPath, {});
            if (st.OutputPath) data = getPath(data, ctx, st.OutputPath);
            break;
          } catch (e) {
            if (!(e instanceof StatesError)) throw e;
            const retry = (st.Retry ?? []).find((r) => matches(r.ErrorEquals, e.error));
            if (retry && attempt < retry.MaxAttempts) { attempt++; continue; }
            const c = (st.Catch ?? []).find((r) => matches(r.ErrorEquals, e.error));
            if (!c) { e.state ??= name; throw e; }
            data = setPath(data, c.ResultPath, { Error: e.error, Cause: e.cause });
            name = c.Next;
            break;
          }
        }
        if (scope.States[name] !== st) continue;
        break;
      }
      case 'Map': {
        const reader = template(st.ItemReader.Parameters, data, ctx);
        const items = env.readItems(reader);
        const failures = [];
        for (const [index, value] of items.entries()) {
          const ictx = { ...ctx, Map: { Item: { Index: index, Value: value } } };
          const childInput = template(st.ItemSelector, data, ictx);
          const childCtx = { Execution: { ...ctx.Execution, Name: `${ctx.Execution.Name}/${st.Label}:${index}` } };
          const child = { trace: [], waits: [], task: env.task, readItems: env.readItems };
          try {
            await runScope(st.ItemProcessor, childInput, childCtx, child, lang);
            env.children.push({ index, status: 'SUCCEEDED', trace: child.trace });
          } catch (e) {
            if (!(e instanceof StatesError)) throw e;
            env.children.push({ index, status: 'FAILED', trace: child.trace, error: e.error, cause: e.cause, state: e.state });
            failures.push(index);
          }
        }
        if (failures.length / Math.max(items.length, 1) * 100 > (st.ToleratedFailurePercentage ?? 0)) {
          const e = new StatesError('States.ExceedToleratedFailureThreshold', `${failures.length} of ${items.length} items failed`);
          e.state = name;
          throw e;
        }
        data = setPath(data, st.ResultPath, []);
        break;
      }
      case 'Succeed':
        return data;
      case 'Fail': {
        const error = lang === 'JSONata' ? await jsonataValue(st.Error, data, ctx) : st.Error ?? getPath(data, ctx, st.ErrorPath);
        const cause = lang === 'JSONata' ? await jsonataValue(st.Cause, data, ctx) : st.Cause ?? getPath(data, ctx, st.CausePath);
        const e = new StatesError(error, cause);
        e.state = name;
        throw e;
      }
      default:
        throw new Error(`${name}: state type ${st.Type} not implemented here`);
    }
    if (st.End) return data;
    name = st.Next;
  }
}

// ---- ECS replaced by the binary, over local folders
function deployment(t, { extraEnv = {}, input = testdata } = {}) {
  const dir = mkdtempSync(path.join(tmpdir(), 'convert-flow-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const out = path.join(dir, 'out');
  mkdirSync(out);
  const local = (v) => v.replaceAll(`s3://${values.OutputBucket}/${values.OutputPrefix}`, out + '/');
  const runs = [];
  const env = {
    trace: [], waits: [], children: [], runs,
    async task(state, params) {
      assert.equal(params.TaskDefinition, values.TaskDefinition);
      assert.deepEqual(params.NetworkConfiguration.AwsvpcConfiguration.Subnets, ['subnet-1', 'subnet-2']);
      const override = params.Overrides.ContainerOverrides[0];
      assert.equal(override.Name, 'convert');
      const vars = { CONVERT_IN: input, CONVERT_OUT: out, CONVERT_REGION: values.Region, ...extraEnv };
      for (const e of override.Environment ?? []) vars[e.Name] = local(e.Value);
      const args = (override.Command ?? [values.Kind]).map(local);
      for (const v of [...args, ...Object.values(vars)]) {
        if (v.startsWith(out + '/_')) mkdirSync(path.dirname(v), { recursive: true });
      }
      const r = spawnSync(binary, args, { env: { PATH: process.env.PATH, HOME: process.env.HOME, ...vars }, encoding: 'utf8', timeout: 120000 });
      runs.push({ state, args, vars, status: r.status, stdout: r.stdout, stderr: r.stderr });
      if (r.status !== 0) {
        throw new StatesError('States.TaskFailed', JSON.stringify({
          Containers: [{ Name: 'convert', ExitCode: r.status, LastStatus: 'STOPPED' }],
          LastStatus: 'STOPPED', StopCode: 'EssentialContainerExited', StoppedReason: 'Essential container in task exited',
        }));
      }
    },
    readItems({ Bucket, Key }) {
      assert.equal(Bucket, values.OutputBucket);
      return JSON.parse(readFileSync(local(`s3://${Bucket}/${Key}`), 'utf8'));
    },
  };
  return { env, out, dir };
}

async function execute(file, input, env, startTime = '2021-12-06T01:30:00.000Z', name = 'run-1') {
  try {
    const output = await runScope(machine(file), input, { Execution: { Name: name, StartTime: startTime } }, env);
    return { status: 'SUCCEEDED', output };
  } catch (e) {
    if (!(e instanceof StatesError)) throw e;
    return { status: 'FAILED', error: e.error, cause: e.cause, state: e.state };
  }
}

// parquetFiles maps each Parquet file under dir to its bytes.
function parquetFiles(dir) {
  const files = {};
  const walk = (d) => {
    for (const e of readdirSync(d)) {
      const p = path.join(d, e);
      if (statSync(p).isDirectory()) walk(p);
      else if (p.endsWith('.parquet')) files[path.relative(dir, p)] = readFileSync(p).toString('base64');
    }
  };
  walk(dir);
  return files;
}

function direct(t, args) {
  const out = mkdtempSync(path.join(tmpdir(), 'convert-direct-'));
  t.after(() => rmSync(out, { recursive: true, force: true }));
  const r = spawnSync(binary, ['flowlogs', '--in', testdata, '--out', out, ...args], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  return { out, summary: JSON.parse(r.stdout) };
}

if (!binary && process.env.CONVERT_DEPLOY_TOOLS === '1') throw new Error('CONVERT_BINARY (the convert binary) is required with CONVERT_DEPLOY_TOOLS=1');
const skip = binary ? false : 'CONVERT_BINARY is not set (.ci/run builds it)';

test('daily: yesterday, from the execution start time, writes what a direct run writes', { skip }, async (t) => {
  const { env, out } = deployment(t);
  const r = await execute('state-machine-daily.asl.json', {}, env);
  assert.equal(r.status, 'SUCCEEDED', JSON.stringify(r));
  assert.deepEqual(env.trace, ['ValidateInput', 'ResolveDay', 'Convert', 'Done']);
  assert.equal(env.runs.length, 1);
  assert.equal(env.runs[0].vars.CONVERT_FROM, '2021-12-05');
  const want = direct(t, ['--from', '2021-12-05', '--to', '2021-12-05']);
  assert.ok(Object.keys(want.summary.output_files).length > 0);
  assert.deepEqual(parquetFiles(out), parquetFiles(want.out));
  const summary = JSON.parse(readFileSync(path.join(out, '_summaries', 'daily', '2021-12-05.json'), 'utf8'));
  assert.equal(summary.records_written, want.summary.records_written);
});

test('daily: an explicit date', { skip }, async (t) => {
  const { env, out } = deployment(t);
  const r = await execute('state-machine-daily.asl.json', { date: '2021-12-04' }, env);
  assert.equal(r.status, 'SUCCEEDED', JSON.stringify(r));
  assert.equal(env.runs[0].vars.CONVERT_TO, '2021-12-04');
  assert.deepEqual(parquetFiles(out), parquetFiles(direct(t, ['--from', '2021-12-04', '--to', '2021-12-04']).out));
});

test('daily: invalid input starts no task', { skip }, async (t) => {
  for (const input of [{ date: null }, { date: '2021-12-4' }]) {
    const { env } = deployment(t);
    const r = await execute('state-machine-daily.asl.json', input, env);
    assert.equal(r.status, 'FAILED');
    assert.equal(r.error, 'convert.InvalidInput');
    assert.equal(env.runs.length, 0);
  }
});

test('daily: exit status 2 is not retried', { skip }, async (t) => {
  const { env } = deployment(t, { extraEnv: { CONVERT_WORKERS: '0' } });
  const r = await execute('state-machine-daily.asl.json', { date: '2021-12-05' }, env);
  assert.equal(r.status, 'FAILED');
  assert.equal(r.state, 'ConversionFailed');
  assert.equal(r.error, 'States.TaskFailed');
  assert.match(r.cause, /exit status 2: bad arguments/);
  assert.match(r.cause, /A redrive of this execution fails the same way/);
  assert.deepEqual(env.runs.map((x) => x.status), [2]);
});

test('daily: exit status 75 is retried three times, then the last try fails the execution in that task', { skip }, async (t) => {
  const { env } = deployment(t, {
    input: 's3://src/AWSLogs/',
    extraEnv: { CONVERT_ENDPOINT_URL: 'http://127.0.0.1:1', CONVERT_PATH_STYLE: 'true', AWS_ACCESS_KEY_ID: 'x', AWS_SECRET_ACCESS_KEY: 'y', AWS_EC2_METADATA_DISABLED: 'true' },
  });
  const r = await execute('state-machine-daily.asl.json', { date: '2021-12-05' }, env);
  assert.equal(r.status, 'FAILED');
  assert.equal(r.state, 'ConvertLastTry', 'a redrive reruns this task');
  assert.deepEqual(env.runs.map((x) => x.status), [75, 75, 75, 75]);
  assert.deepEqual(env.waits, [60, 120, 240]);
});

test('backfill: several items write every record once, and verify passes', { skip }, async (t) => {
  const { env, out } = deployment(t);
  const r = await execute('state-machine-backfill.asl.json', { from: '2021-12-01', to: '2021-12-31', verify: true }, env, undefined, 'backfill-1');
  assert.equal(r.status, 'SUCCEEDED', JSON.stringify(r));
  assert.deepEqual(env.trace, ['ValidateInput', 'PlanLocation', 'Plan', 'ConvertItems', 'VerifyRequested', 'Verify', 'Done']);
  const plan = JSON.parse(readFileSync(path.join(out, '_plans', 'backfill-1.json'), 'utf8'));
  assert.ok(plan.length > 1, 'a 1-byte item size gives several items');
  assert.equal(env.children.length, plan.length);
  assert.ok(env.children.every((c) => c.status === 'SUCCEEDED'));
  let written = 0;
  for (const it of plan) {
    written += JSON.parse(readFileSync(path.join(out, '_summaries', 'backfill-1', `${it.id}.json`), 'utf8')).records_written;
  }
  const want = direct(t, ['--from', '2021-12-01', '--to', '2021-12-31']).summary;
  assert.equal(written, want.records_written);
  assert.equal(env.runs.at(-1).args[0], 'verify');
  assert.equal(JSON.parse(env.runs.at(-1).stdout).ok, true);
});

test('backfill: one corrupt object fails its item only, and the execution in the Map', { skip }, async (t) => {
  const dir = mkdtempSync(path.join(tmpdir(), 'convert-flow-in-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  cpSync(testdata, dir, { recursive: true });
  const some = spawnSync('find', [dir, '-name', '*.log.gz'], { encoding: 'utf8' }).stdout.trim().split('\n')[0];
  writeFileSync(some.replace(/\.log\.gz$/, '-corrupt.log.gz'), 'not gzip');
  const { env } = deployment(t, { input: dir });
  const r = await execute('state-machine-backfill.asl.json', { from: '2021-12-01', to: '2021-12-31' }, env, undefined, 'backfill-2');
  assert.equal(r.status, 'FAILED');
  assert.equal(r.state, 'ConvertItems', 'a redrive redrives the Map Run: only the failed item');
  assert.equal(r.error, 'States.ExceedToleratedFailureThreshold');
  const failed = env.children.filter((c) => c.status === 'FAILED');
  assert.equal(failed.length, 1);
  assert.equal(failed[0].state, 'ItemFailed');
  assert.match(failed[0].cause, /exit status 1: the run failed for a reason no retry fixes/);
  assert.match(failed[0].cause, /A redrive of the backfill reruns only the items that did not succeed/);
  assert.equal(env.runs.filter((x) => x.status === 1).length, 1, 'exit status 1 is not retried');
  assert.ok(env.children.length > 1);
});

test('backfill: invalid input starts no task', { skip }, async (t) => {
  const { env } = deployment(t);
  const r = await execute('state-machine-backfill.asl.json', { from: '2021-12-01' }, env);
  assert.equal(r.error, 'convert.InvalidInput');
  assert.equal(env.runs.length, 0);
  assert.ok(existsSync(testdata));
});
