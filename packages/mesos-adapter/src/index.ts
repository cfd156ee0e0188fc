export { decodeRecordIOJson, RecordIODecoder, type RecordIODecoderOptions } from './recordio.ts';
