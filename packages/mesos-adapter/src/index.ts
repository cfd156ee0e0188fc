export { parseMesosJson } from './json.ts';
export * from './proto/index.ts';
export {
  type DecodeRecordIOJsonOptions,
  decodeRecordIOJson,
  RecordIODecoder,
  type RecordIODecoderOptions,
} from './recordio.ts';
