/**
 * Client of the Mesos v1 *agent* operator API (`POST <agent>/api/v1`): the calls the adapter needs
 * from each agent directly, today `GET_CONTAINERS` (containers with their resource statistics).
 * Agents are addressed by base URL (`agentBaseUrl(offer.url)`).
 */
import { parseMesosJson } from './json.ts';
import { httpError, MesosHttp, type MesosHttpOptions, normaliseMasterUrl } from './mesos-http.ts';
import type { GetContainers } from './proto/agent.ts';
import { parseAgentResponse } from './proto/parse.ts';

export const AGENT_API_PATH = '/api/v1';

export interface MesosAgentClientOptions {
  readonly httpOptions?: MesosHttpOptions;
  readonly http?: MesosHttp;
}

export interface GetContainersOptions {
  /** Include nested containers (the tasks of a task group), default true. */
  readonly showNested?: boolean;
  /** Include standalone containers (not launched by an executor), default false. */
  readonly showStandalone?: boolean;
  readonly signal?: AbortSignal;
}

export class MesosAgentClient {
  readonly #http: MesosHttp;
  readonly #ownsHttp: boolean;

  constructor(options: MesosAgentClientOptions = {}) {
    this.#ownsHttp = options.http === undefined;
    this.#http = options.http ?? new MesosHttp(options.httpOptions);
  }

  /** The agent's containers with `resource_statistics` (`GET_CONTAINERS`). */
  async getContainers(agent: string, options: GetContainersOptions = {}): Promise<GetContainers> {
    const url = `${normaliseMasterUrl(agent, 'agent')}${AGENT_API_PATH}`;
    const body = JSON.stringify({
      type: 'GET_CONTAINERS',
      get_containers: {
        show_nested: options.showNested ?? true,
        show_standalone: options.showStandalone ?? false,
      },
    });
    const res = await this.#http.request(url, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json', Accept: 'application/json' },
      body,
      ...(options.signal === undefined ? {} : { signal: options.signal }),
    });
    const text = await res.text();
    if (res.status !== 200) throw httpError(url, res.status, text, 'GET_CONTAINERS call');
    return parseAgentResponse(parseMesosJson(text)).get_containers;
  }

  async close(): Promise<void> {
    if (this.#ownsHttp) await this.#http.close();
  }
}
