// The map's API client: the SDK's (@exomaps/sdk) for this origin, session in HttpOnly cookies.
import { createApi, roomsApi } from '@exomaps/sdk';

export const Api = createApi({ mode: 'cookie' });
/** Rooms, annotations, admin broadcast. */
export const Rooms = roomsApi(Api);
