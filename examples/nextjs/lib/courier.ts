// Server only (route handlers): the API key never reaches the browser (COURIER_URL, COURIER_API_KEY).
import { Courier } from "courier-client";

export const courier = new Courier();
